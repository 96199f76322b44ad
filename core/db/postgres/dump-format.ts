/** First line of every dump this engine writes. */
export const DUMP_HEADER_LINE = "-- app-backup PostgreSQL dump";

/**
 * Last line of every complete dump. A dump cut short at a statement boundary is still valid SQL,
 * so the loader insists on this line before it commits anything.
 */
export const DUMP_TRAILER_LINE = "-- app-backup PostgreSQL dump complete";

/** pg_dump's own last line: its plain-format dumps load too. */
export const PG_DUMP_TRAILER_LINE = "-- PostgreSQL database dump complete";
