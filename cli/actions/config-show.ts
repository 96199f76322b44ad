import {
  configurationDifferences,
  describeConfiguration,
  openStore,
  readStoredConfiguration,
  storedConfigurationFromOptions,
  storedConfigurationName,
} from "../../core/index.js";
import { CommandOutput } from "../context.js";
import type { CliIo } from "../io.js";
import { ExitCode } from "../exit-codes.js";

export interface ConfigShowFlags {
  config: string;
  json?: boolean;
}

export async function configShow(io: CliIo, setExit: (code: number) => void, opts: ConfigShowFlags): Promise<void> {
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
}
