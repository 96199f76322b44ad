#!/usr/bin/env node
import { keepYoungGenerationSmall } from "../core/index.js";
import { main } from "./main.js";

keepYoungGenerationSmall();

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`error: ${(error as Error)?.stack ?? String(error)}\n`);
    process.exitCode = 1;
  },
);
