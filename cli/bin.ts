#!/usr/bin/env node
import "./node-check.js";
import { runProgram } from "./code-cache.js";
import { enableCompileCache } from "./compile-cache.js";

// Before the program runs, so that the bundles it requires (the Azure SDK, a database driver) come from the compile cache.
const cacheFolder = enableCompileCache();
runProgram(process.getBuiltinModule("node:url").fileURLToPath(new URL("./program.cjs", import.meta.url)), cacheFolder, process.argv[2]);
