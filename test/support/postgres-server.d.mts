import type pg from "pg";

export const TEST_USER: string;
export const TLS_HOST_NAME: string;

export interface PostgresTestServer {
  binDir: string;
  host: string;
  port: number;
  socketDir: string;
  user: string;
  password: string;
  tls?: { caFile: string; wrongCaFile: string; hostName: string };
  adminClient(database?: string): Promise<pg.Client>;
  adminQuery(sql: string, database?: string): Promise<pg.QueryResult>;
  connectionString(database: string, params?: Record<string, string>): string;
  client(database: string): Promise<pg.Client>;
  createDatabase(name: string): Promise<string>;
  dropDatabase(name: string): Promise<void>;
  tool(name: string, args: string[]): Promise<string>;
  stop(): Promise<void>;
}

export function findPostgresBinDir(): string;
export function startPostgresServer(options?: { tls?: boolean; settings?: Record<string, string> }): Promise<PostgresTestServer>;
