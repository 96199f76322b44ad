export { ExitCode, exitCodeTable, exitCodeForError, exitCodeForStatus } from "../core/index.js";
