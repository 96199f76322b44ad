import type { Readable } from "node:stream";

export const TEST_PASSWORD: string;
export const TEST_USER: string;

export interface MariaDbServer {
  host: "127.0.0.1";
  port: number;
  dir: string;
  socket: string;
  user: string;
  password: string;
  /** Set when started with `tls: true`. */
  caFile: string | undefined;
  wrongCaFile: string | undefined;
  sql(statements: string, database?: string): Promise<string>;
  tool(program: string, args: string[], input?: string | Buffer | Readable): Promise<string>;
  toolArgs(...args: string[]): string[];
  appToolArgs(...args: string[]): string[];
  connectionString(database: string, extra?: string): string;
  stop(): Promise<void>;
}

export function startMariaDbServer(options?: { tls?: boolean; bufferPoolMb?: number }): Promise<MariaDbServer>;
