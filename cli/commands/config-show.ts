import type { Command } from "commander";
import {
  configurationDifferences,
  describeConfiguration,
  openStore,
  readStoredConfiguration,
  storedConfigurationFromOptions,
  storedConfigurationName,
} from "../../core/index.js";
import { CommandOutput, type CliIo } from "../context.js";
import { withHelp, type HelpExample } from "../help.js";
import { ExitCode } from "../exit-codes.js";

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
    .action(async (opts: { config: string; json?: boolean }) => {
      const out = new CommandOutput(io, Boolean(opts.json));
      try {
        const options = await out.load(opts.config);
        const store = await openStore(options.backup.storage);
        const doc = await readStoredConfiguration(store, options.app.name);
        const url = store.urlOf(storedConfigurationName(options.app.name));
        if (!doc) {
          out.result({ app: options.app.name, url, stored: false, configuration: null, differences: [] });
          out.print(
            `No backup configuration of ${options.app.name} is stored in ${store.location}.\nStore it with \`app-backup configure --config ${opts.config}\`.`,
          );
          setExit(ExitCode.ok);
          return;
        }
        const differences = configurationDifferences(doc, storedConfigurationFromOptions(options, { previous: doc }));
        out.result({ app: options.app.name, url, stored: true, configuration: doc, differences });
        out.print(
          [
            `Backup configuration of ${options.app.name}: ${url}`,
            ...describeConfiguration(doc),
            differences.length > 0
              ? `${opts.config} differs on ${differences.join(", ")}; runners use the stored configuration until \`app-backup configure\` stores the file's.`
              : `${opts.config} matches it.`,
          ].join("\n"),
        );
        setExit(ExitCode.ok);
      } catch (error) {
        setExit(out.fail(error));
      }
    });
  withHelp(command, examples);
}
