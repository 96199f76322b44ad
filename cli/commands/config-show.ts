import type { Command } from "commander";
import type { CliIo } from "../io.js";
import { withHelp, type HelpExample } from "../help.js";
import type { ConfigShowFlags } from "../actions/config-show.js";
import { loaded } from "./loaded.js";

const examples: HelpExample[] = [
  { does: "show the stored configuration of the app of ./app-backup.yml, and how the file differs", command: "app-backup config show" },
  { does: "the same for another app, as JSON", command: "app-backup config show --config /srv/shop/app-backup.yml --json" },
];

export function registerConfigShow(program: Command, io: CliIo, setExit: (code: number) => void): void {
  const config = program.command("config").description("The backup configuration stored in the app's container.");
  withHelp(config, examples);
  const command = config
    .command("show")
    .description("Show the app's stored backup configuration, and where the configuration file differs from it.")
    .option("-c, --config <file>", "the app's app-backup.yml (its name and storage say where to look)", "app-backup.yml")
    .option("--json", "print one JSON result as the last stdout line")
    .action(async (opts: ConfigShowFlags) => (await loaded(import("../actions/config-show.js"))).configShow(io, setExit, opts));
  withHelp(command, examples);
}
