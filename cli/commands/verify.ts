import type { Command } from "commander";
import { addAppFlags } from "../app-flags.js";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { VerifyFlags } from "../actions/verify.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "check the newest backup's zip against its manifest", command: "app-backup verify latest" },
  { does: "read every entry of a backup and check its SHA-256 too", command: "app-backup verify shop_20261130020000 --read-data --json" },
  { does: "check a backup downloaded by hand", command: "app-backup verify --from ./shop_20261130020000.zip" },
];

export function registerVerify(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const command = program
    .command("verify")
    .argument("[backup]", "the backup's name, or `latest`; optional with --from")
    .description("Check a backup's zip against its manifest (names, sizes, CRC-32, kinds); with --read-data, every entry's SHA-256 too.");
  addAppFlags(command, "storage")
    .option("--from <path>", "check a .zip and .xml downloaded by hand (the .zip, the .xml or their common stem)")
    .option("--read-data", "read every entry and check its size, CRC-32 and SHA-256")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (backup: string | undefined, flags: VerifyFlags) => (await loaded(import("../actions/verify.js"))).verify(io, setExit, backup, flags));
  withHelp(command, examples, "file-or-flags");
}
