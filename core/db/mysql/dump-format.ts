import type { StoredObjectDefinition } from "./schema.js";
import { quoteIdentifier, quoteString } from "./session.js";

/**
 * The dump's last line. A dump without it was cut short; the loader refuses such a file
 * (the `mariadb` client cannot tell, which is why the marker is a comment it ignores).
 */
export const DUMP_COMPLETE_MARKER = "-- Dump completed:";

/** Session settings for loading, saved first and restored by the footer (the layout mariadb-dump uses). */
export function dumpHeader(info: { engine: string; serverVersion: string; database: string; consistency: string }): string {
  return [
    `-- app-backup dump of ${info.engine === "mariadb" ? "MariaDB" : "MySQL"} database ${quoteIdentifier(info.database)}`,
    `-- Server version: ${info.serverVersion}`,
    `-- Consistency: ${info.consistency}`,
    "-- Restore with: mariadb <database> < this-file.sql   (or mysql)",
    "-- Binary values are written as hex; TIMESTAMP values are in UTC (time_zone '+00:00').",
    "",
    "SET @OLD_CHARACTER_SET_CLIENT=@@CHARACTER_SET_CLIENT, @OLD_CHARACTER_SET_RESULTS=@@CHARACTER_SET_RESULTS, @OLD_COLLATION_CONNECTION=@@COLLATION_CONNECTION;",
    "SET NAMES utf8mb4;",
    "SET @OLD_TIME_ZONE=@@TIME_ZONE, TIME_ZONE='+00:00';",
    "SET @OLD_UNIQUE_CHECKS=@@UNIQUE_CHECKS, UNIQUE_CHECKS=0;",
    "SET @OLD_FOREIGN_KEY_CHECKS=@@FOREIGN_KEY_CHECKS, FOREIGN_KEY_CHECKS=0;",
    "SET @OLD_SQL_MODE=@@SQL_MODE, SQL_MODE='NO_AUTO_VALUE_ON_ZERO';",
    "SET @OLD_SQL_NOTES=@@SQL_NOTES, SQL_NOTES=0;",
    "",
  ].join("\n");
}

export function dumpFooter(): string {
  return [
    "",
    "SET SQL_NOTES=@OLD_SQL_NOTES;",
    "SET SQL_MODE=@OLD_SQL_MODE;",
    "SET FOREIGN_KEY_CHECKS=@OLD_FOREIGN_KEY_CHECKS;",
    "SET UNIQUE_CHECKS=@OLD_UNIQUE_CHECKS;",
    "SET TIME_ZONE=@OLD_TIME_ZONE;",
    "SET CHARACTER_SET_CLIENT=@OLD_CHARACTER_SET_CLIENT, CHARACTER_SET_RESULTS=@OLD_CHARACTER_SET_RESULTS, COLLATION_CONNECTION=@OLD_COLLATION_CONNECTION;",
    "",
  ].join("\n");
}

/**
 * One view, routine or trigger. It is created under the sql_mode and client character set it
 * was created with (they change how its body is parsed and run); a character set that does
 * not write text as UTF-8 is replaced by utf8mb4, since the dump file itself is UTF-8.
 * Routines and triggers go in a `DELIMITER ;;` block because their bodies contain `;`.
 */
export function storedObjectBlock(object: StoredObjectDefinition): string {
  const utf8 = /^utf8/i.test(object.characterSetClient) && /^utf8/i.test(object.collationConnection);
  const characterSet = utf8 ? object.characterSetClient : "utf8mb4";
  const collation = utf8 ? object.collationConnection : "utf8mb4_general_ci";
  const name = quoteIdentifier(object.name);
  const lines = [
    "",
    "--",
    `-- ${object.kind[0]}${object.kind.slice(1).toLowerCase()} ${name}`,
    "--",
    "",
    `DROP ${object.kind} IF EXISTS ${name};`,
    "SET @saved_cs_client=@@character_set_client, @saved_cs_results=@@character_set_results, @saved_col_connection=@@collation_connection, @saved_sql_mode=@@sql_mode;",
    `SET character_set_client=${characterSet}, character_set_results=${characterSet}, collation_connection=${collation};`,
  ];
  if (object.sqlMode !== null) lines.push(`SET sql_mode=${quoteString(object.sqlMode)};`);
  if (object.kind === "VIEW") {
    lines.push(`${object.createStatement};`);
  } else {
    lines.push("DELIMITER ;;", `${object.createStatement} ;;`, "DELIMITER ;");
  }
  lines.push("SET character_set_client=@saved_cs_client, character_set_results=@saved_cs_results, collation_connection=@saved_col_connection, sql_mode=@saved_sql_mode;", "");
  return lines.join("\n");
}
