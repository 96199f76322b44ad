import os from "node:os";
import path from "node:path";
import * as v from "valibot";
import { AppBackupError } from "../errors.js";
import { appServiceAddress } from "../home/app-service/address.js";
import type { RemoteHomeSpec } from "../home/remote-home.js";
import { describeSftpAddress, isSftpAddress, parseSftpAddress } from "../home/sftp/address.js";
import type { ConfigContext } from "./context.js";
import type { Substitute } from "./env-substitution.js";

const text = v.pipe(v.string("expected text"), v.trim(), v.minLength(1, "must not be empty"));

/** `home`: a folder, `sftp://user@host[:port]/path`, or an App Service app. */
export const homeSchema = v.union(
  [
    text,
    v.strictObject({
      appService: text,
      resourceGroup: v.optional(text),
      subscription: v.optional(text),
      slot: v.optional(text),
      /** The app's publishing credentials; without them Entra ID (DefaultAzureCredential) is used. */
      publishingUser: v.optional(text),
      publishingPassword: v.optional(text),
      /** Azure Resource Manager's endpoint in a sovereign cloud (https://management.chinacloudapi.cn). */
      armUrl: v.optional(v.pipe(text, v.url("expected an https URL such as https://management.chinacloudapi.cn"))),
    }),
  ],
  'expected a folder, "sftp://user@host/path" or { appService: NAME, resourceGroup, subscription }',
);

/** `sftp`: how an `sftp://` home logs in. */
export const sftpSchema = v.strictObject({
  privateKey: v.optional(text),
  privateKeyFile: v.optional(text),
  passphrase: v.optional(text),
  password: v.optional(text),
  knownHosts: v.optional(text),
});

export type HomeInput = v.InferOutput<typeof homeSchema>;
export type SftpInput = v.InferOutput<typeof sftpSchema>;

/** The home as the engine takes it: a local absolute path, or a remote home's description and how to reach it. */
export function resolveHomeInput(
  home: HomeInput,
  sftp: SftpInput | undefined,
  context: ConfigContext,
  substitute: Substitute,
): { home: string; remote?: RemoteHomeSpec } {
  const where = context.source ? ` in ${context.source}` : "";
  // An App Service app's SCM URL alone is a home too (publishing credentials need the mapping form).
  if (typeof home === "string" && /^https:\/\//i.test(substitute(home, "home"))) home = { appService: home };
  if (typeof home !== "string") {
    if (sftp) throw misplaced("sftp", "the home is an App Service app", where);
    const address = appServiceAddress({
      appService: substitute(home.appService, "home.appService"),
      resourceGroup: home.resourceGroup && substitute(home.resourceGroup, "home.resourceGroup"),
      subscription: home.subscription && substitute(home.subscription, "home.subscription"),
      slot: home.slot && substitute(home.slot, "home.slot"),
    });
    if ((home.publishingUser === undefined) !== (home.publishingPassword === undefined)) {
      throw new AppBackupError(
        "CONFIG_INVALID",
        `home${where}: publishingUser and publishingPassword go together.`,
        "Give both (from the app's publish profile, e.g. `publishingPassword: ${env:PUBLISH_PASSWORD}`), or neither to sign in with Entra ID.",
      );
    }
    return {
      home: address.scmUrl,
      remote: {
        kind: "app-service",
        address,
        publishingUser: home.publishingUser && substitute(home.publishingUser, "home.publishingUser"),
        publishingPassword: home.publishingPassword && substitute(home.publishingPassword, "home.publishingPassword"),
        ...(home.armUrl ? { armUrl: home.armUrl } : {}),
      },
    };
  }
  const value = substitute(home, "home");
  if (!isSftpAddress(value)) {
    if (sftp) throw misplaced("sftp", "the home is a local folder", where);
    return { home: path.resolve(context.baseDir, value) };
  }
  const address = parseSftpAddress(value);
  const file = (given: string | undefined, key: string) => (given === undefined ? undefined : localPath(substitute(given, `sftp.${key}`), context.baseDir));
  return {
    home: describeSftpAddress(address),
    remote: {
      kind: "sftp",
      address,
      privateKey: sftp?.privateKey && substitute(sftp.privateKey, "sftp.privateKey"),
      privateKeyFile: file(sftp?.privateKeyFile, "privateKeyFile"),
      passphrase: sftp?.passphrase && substitute(sftp.passphrase, "sftp.passphrase"),
      password: sftp?.password && substitute(sftp.password, "sftp.password"),
      knownHosts: file(sftp?.knownHosts, "knownHosts"),
    },
  };
}

/** A file named in the configuration: `~/` is the user's home, a relative path the configuration's folder. */
function localPath(given: string, baseDir: string): string {
  if (given === "~" || given.startsWith("~/")) return path.join(os.homedir(), given.slice(1));
  return path.resolve(baseDir, given);
}

function misplaced(key: string, why: string, where: string): AppBackupError {
  return new AppBackupError("CONFIG_INVALID", `${key}${where}: only an sftp:// home logs in over SFTP, and ${why}.`, `Remove "${key}", or set home to sftp://user@host/path.`, {
    issues: [{ path: key, message: `only an sftp:// home logs in over SFTP, and ${why}` }],
  });
}
