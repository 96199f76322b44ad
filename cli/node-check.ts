import { ExitCode } from "../core/report/exit-codes.js";

// The binary's first module: the others take Node's modules with
// `process.getBuiltinModule`, which an older Node.js than package.json's
// "engines" may lack; it then gets this error rather than a TypeError.
if (typeof process.getBuiltinModule !== "function") {
  process.stderr.write(
    `error: app-backup needs Node.js 22.3 or later, and this is Node.js ${process.versions.node}.\n` +
      "Install Node.js 22 or 24 (https://nodejs.org) and run the command again.\n",
  );
  process.exit(ExitCode.usage);
}
