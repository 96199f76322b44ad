#!/usr/bin/env node
import { enableCompileCache } from "./compile-cache.js";

// Before the program's modules load, so that they can come from the compile cache.
enableCompileCache();
await import("./start.js");
