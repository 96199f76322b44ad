import { main } from "@pulumi/pulumi/provider/index.js";
import { AppBackupProvider } from "./provider.js";
import { onConfigure } from "./provider-configuration.js";

/** pulumi-resource-app-backup: the engine starts it and reads the port it serves on from its first line. */
const provider = new AppBackupProvider();
onConfigure((configuration) => provider.configure(configuration));
await main(provider, process.argv.slice(2));
