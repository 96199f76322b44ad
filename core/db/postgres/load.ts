import type { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { from as copyFrom } from "pg-copy-streams";
import { AppBackupError } from "../../errors.js";
import type { LoadSummary } from "../types.js";
import { clearDatabase } from "./clear-database.js";
import { parsePostgresConnectionString } from "./connection-string.js";
import { DUMP_TRAILER_LINE } from "./dump-format.js";
import { DumpReader, DumpSyntaxError } from "./dump-reader.js";
import { PostgresSession } from "./session.js";

export const ATOMICITY =
  "All or nothing: the old content is dropped and the dump replayed in one transaction; any failure rolls it back and leaves the database as it was.";

/** Statements are sent in batches (one round trip each) of about this many bytes. */
const BATCH_BYTES = 256 * 1024;

interface Statement {
  sql: string;
  line: number;
}

/**
 * Replaces the database's content with a plain SQL dump, in one transaction: the existing user
 * objects are dropped, the statements replayed and the COPY rows streamed in. Nothing is committed
 * unless the whole dump, up to its closing line, went in.
 */
export async function loadPostgres(connectionString: string, sql: Readable, options: { signal?: AbortSignal } = {}): Promise<LoadSummary> {
  const settings = parsePostgresConnectionString(connectionString);
  const session = await PostgresSession.open(settings, "app-backup load", options.signal);
  const reader = new DumpReader(sql);
  let batch: Statement[] = [];
  let batchBytes = 0;
  let failedAt: Statement | undefined;
  const flush = async () => {
    if (batch.length === 0) return;
    const statements = batch;
    batch = [];
    batchBytes = 0;
    try {
      await session.query(statements.map((s) => s.sql).join("\n"));
    } catch (error) {
      failedAt = statementAt(statements, (error as { position?: string }).position)
        ?? { line: statements[0]!.line, sql: `(one of the statements from line ${statements[0]!.line} to line ${statements.at(-1)!.line})` };
      throw error;
    }
  };

  try {
    const database = (await session.query<{ name: string }>("SELECT pg_catalog.current_database() AS name")).rows[0]!.name;
    await session.query("BEGIN");
    await clearDatabase(session);
    let tables = 0;
    for (let piece = await reader.next(); piece; piece = await reader.next()) {
      if (piece.kind === "meta") {
        // pg_dump's \restrict guards an interactive psql session; there is none here.
        if (/^\\(un)?restrict\b/.test(piece.command)) continue;
        throw new DumpSyntaxError(`The dump contains the psql command "${piece.command.split(/\s/)[0]}", which only psql can run`, piece.line);
      }
      if (piece.kind === "statement") {
        batch.push(piece);
        batchBytes += piece.sql.length;
        if (batchBytes >= BATCH_BYTES) await flush();
        continue;
      }
      await flush();
      failedAt = piece;
      await pipeline(reader.copyData(), session.client.query(copyFrom(piece.sql)));
      failedAt = undefined;
      tables++;
    }
    await flush();
    if (!reader.sawTrailer) {
      throw new AppBackupError("DATABASE", `The dump is incomplete: it does not end with "${DUMP_TRAILER_LINE}". Nothing was changed in the database.`,
        "The file was cut short (an interrupted copy or a full disk?); restore from a complete backup.");
    }
    await session.query("COMMIT");
    return { database, tables, atomicity: ATOMICITY };
  } catch (error) {
    if (!session.broken) await session.query("ROLLBACK").catch(() => undefined);
    if (error instanceof AppBackupError) throw error;
    if (error instanceof DumpSyntaxError) {
      throw new AppBackupError("DATABASE", `Cannot load the dump: ${error.message}. Nothing was changed in the database.`, "Restore from a complete, unmodified backup.", { cause: error });
    }
    const where = failedAt ? `While running the statement at line ${failedAt.line} of the dump: ${excerpt(failedAt.sql)}\nNothing was changed in the database.` : "Nothing was changed in the database.";
    throw session.fail(error, "load the dump", where);
  } finally {
    await session.close();
  }
}

/** The statement of a batch that a server error's 1-based character `position` points into. */
function statementAt(statements: Statement[], position: string | undefined): Statement | undefined {
  if (statements.length === 1 || position === undefined) return statements.length === 1 ? statements[0] : undefined;
  let offset = Number(position) - 1;
  for (const statement of statements) {
    if (offset < statement.sql.length + 1) return statement;
    offset -= statement.sql.length + 1;
  }
  return undefined;
}

function excerpt(sql: string): string {
  const oneLine = sql.replace(/\s+/g, " ").trim();
  return oneLine.length > 200 ? `${oneLine.slice(0, 200)}...` : oneLine;
}
