import fc from "fast-check";
import { parseMysqlConnectionString } from "../../core/db/mysql/connection-string.js";
import { parsePostgresConnectionString } from "../../core/db/postgres/connection-string.js";
import { parseSqlServerConnectionString } from "../../core/db/sqlserver/connection-string.js";

/** Characters that break naive parsing of connection strings, plus letters and digits. */
export const hostileCharacters = [..."@;\"'=\\%/:, ", ..."abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"];

export const passwordArb = fc.string({ unit: fc.constantFrom(...hostileCharacters), minLength: 1, maxLength: 40 });

/** What a driver reads from a connection string, as far as these tests care. */
interface DriverView {
  host: string;
  user: string;
  database: string;
  password: string | undefined;
}

/** A form the drivers accept, with the password quoted or encoded the way that form requires. */
export interface ConnectionStringForm {
  name: string;
  /** Azure's connection-string type. */
  type: string;
  /** The `databaseType` of a backup of that engine. */
  databaseType: string;
  build(password: string, server: { host: string; port: number }): string;
  /** The password as written in the string, with what marks it as the password (its key, or `user:` and `@`). */
  credential(password: string): string;
  parse(text: string): DriverView;
  /** Non-secret text that must survive redaction. */
  kept: string[];
}

export const user = "shop_user";
export const database = "shopdb";

const libpqQuoted = (value: string) => `'${value.replace(/[\\']/g, "\\$&")}'`;
const doubled = (value: string, quote: '"' | "'") => `${quote}${value.split(quote).join(quote + quote)}${quote}`;

const postgresView = (text: string): DriverView => {
  const settings = parsePostgresConnectionString(text);
  return { host: settings.host, user: settings.user ?? "", database: settings.database ?? "", password: settings.password };
};
const mysqlView = (text: string): DriverView => {
  const settings = parseMysqlConnectionString(text);
  return { host: settings.host, user: settings.user, database: settings.database, password: settings.password };
};
const sqlServerView = (text: string): DriverView => {
  const settings = parseSqlServerConnectionString(text);
  return { host: settings.server, user: settings.user, database: settings.database, password: settings.password };
};

export const connectionStringForms: ConnectionStringForm[] = [
  {
    name: "PostgreSQL URL",
    type: "PostgreSQL",
    databaseType: "PostgreSql",
    credential: (password) => `${user}:${encodeURIComponent(password)}@`,
    build: (password, { host, port }) => `postgres://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}?sslmode=disable`,
    parse: postgresView,
    kept: [user, database, "sslmode=disable"],
  },
  {
    name: "PostgreSQL key=value",
    type: "PostgreSQL",
    databaseType: "PostgreSql",
    credential: (password) => `password=${libpqQuoted(password)}`,
    build: (password, { host, port }) => `host=${host} port=${port} dbname=${database} user=${user} password=${libpqQuoted(password)} sslmode=disable`,
    parse: postgresView,
    kept: [user, database, "sslmode=disable"],
  },
  {
    name: "PostgreSQL ADO.NET",
    type: "PostgreSQL",
    databaseType: "PostgreSql",
    credential: (password) => `Password=${doubled(password, '"')}`,
    build: (password, { host, port }) => `Host=${host};Port=${port};Database=${database};Username=${user};Password=${doubled(password, '"')};SSL Mode=Disable`,
    parse: postgresView,
    kept: [user, database, "SSL Mode=Disable"],
  },
  {
    name: "MySQL URL",
    type: "MySql",
    databaseType: "MySql",
    credential: (password) => `${user}:${encodeURIComponent(password)}@`,
    build: (password, { host, port }) => `mysql://${user}:${encodeURIComponent(password)}@${host}:${port}/${database}?ssl-mode=DISABLED`,
    parse: mysqlView,
    kept: [user, database, "ssl-mode=DISABLED"],
  },
  {
    name: "MySQL ADO.NET",
    type: "MySql",
    databaseType: "MySql",
    credential: (password) => `Pwd=${doubled(password, "'")}`,
    build: (password, { host, port }) => `Server=${host};Port=${port};Database=${database};Uid=${user};Pwd=${doubled(password, "'")};SslMode=None`,
    parse: mysqlView,
    kept: [user, database, "SslMode=None"],
  },
  {
    name: 'SQL Server ADO.NET, "quoted"',
    type: "SQLAzure",
    databaseType: "SqlAzure",
    credential: (password) => `Password=${doubled(password, '"')}`,
    build: (password, { host, port }) =>
      `Server=tcp:${host},${port};Initial Catalog=${database};User ID=${user};Password=${doubled(password, '"')};Encrypt=False;TrustServerCertificate=True;Connect Timeout=5`,
    parse: sqlServerView,
    kept: [user, database, "Encrypt=False", "TrustServerCertificate=True"],
  },
  {
    name: "SQL Server ADO.NET, 'quoted'",
    type: "SQLServer",
    databaseType: "SqlAzure",
    credential: (password) => `Password=${doubled(password, "'")}`,
    build: (password, { host, port }) =>
      `Server=tcp:${host},${port};Initial Catalog=${database};User ID=${user};Password=${doubled(password, "'")};Encrypt=False;TrustServerCertificate=True;Connect Timeout=5`,
    parse: sqlServerView,
    kept: [user, database, "Encrypt=False", "TrustServerCertificate=True"],
  },
];

/** Every substring of the password a reader could recognise it by: 4 characters long, or the whole password when shorter. */
export function telltales(password: string): string[] {
  if (password.length < 4) return [password];
  const found = new Set<string>();
  for (let i = 0; i + 4 <= password.length; i++) found.add(password.slice(i, i + 4));
  return [...found];
}

/** The telltales of the password found in the text. */
export function leaksIn(text: string, password: string): string[] {
  return password.length < 4 ? [] : telltales(password).filter((telltale) => text.includes(telltale));
}
