import os from "node:os";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { redactorFor } from "../backup/redactor.js";
import { AppBackupError } from "../errors.js";
import { resolveConfig } from "./load.js";
import { resolveInlineApp, type InlineWording } from "./inline-app.js";
import { thrownAppBackupError as failure } from "../../test/support/app-backup-error.js";

const baseDir = "/srv/config";
const subscription = "0b1f6471-1bf0-4dda-aec3-111122223333";

function resolve(raw: Record<string, unknown>, env: NodeJS.ProcessEnv = {}) {
  return resolveConfig({ name: "contoso", backup: { storage: "file:./backups" }, ...raw }, { baseDir, env, source: "app-backup.yml" });
}

describe("home: the forms of a home in a configuration", () => {
  it("a folder stays a local home, resolved against the configuration's folder", () => {
    const options = resolve({ home: "./site" });
    expect(options.app.home).toBe(path.join(baseDir, "site"));
    expect(options.app.remote).toBeUndefined();
  });

  it("sftp:// is a remote home; its key and known_hosts files resolve like other paths, ~ as the user's home", () => {
    const options = resolve(
      { home: "sftp://deploy@vm.example.com:2222/srv/app", sftp: { privateKeyFile: "~/.ssh/deploy", knownHosts: "./known_hosts", passphrase: "${env:KEY_PASS}" } },
      { KEY_PASS: "correct horse battery" },
    );
    expect(options.app.home).toBe("sftp://deploy@vm.example.com:2222/srv/app");
    expect(options.app.remote).toEqual({
      kind: "sftp",
      address: { user: "deploy", host: "vm.example.com", port: 2222, path: "/srv/app" },
      privateKey: undefined,
      privateKeyFile: path.join(os.homedir(), ".ssh/deploy"),
      passphrase: "correct horse battery",
      password: undefined,
      knownHosts: path.join(baseDir, "known_hosts"),
    });
  });

  it("the home itself may come from the environment", () => {
    const options = resolve({ home: "${env:APP_HOME}", sftp: { privateKey: "${env:KEY}" } }, { APP_HOME: "sftp://u@10.0.0.4/var/www", KEY: "-----BEGIN OPENSSH PRIVATE KEY-----\nabc\n" });
    expect(options.app.remote).toMatchObject({ kind: "sftp", address: { host: "10.0.0.4", port: 22, path: "/var/www" }, privateKey: expect.stringContaining("abc") });
  });

  it("refuses a password written into the address, without repeating it", () => {
    const error = failure(() => resolve({ home: "sftp://deploy:hunter2-secret@vm/srv/app" }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.describe()).not.toContain("hunter2-secret");
    expect(error.hint).toMatch(/password: \$\{env:NAME\}/);
  });

  it("refuses an sftp section beside a home that is not sftp://", () => {
    const error = failure(() => resolve({ home: "./site", sftp: { privateKeyFile: "key" } }));
    expect(error.message).toMatch(/^sftp in app-backup\.yml: only an sftp:\/\/ home/);
    expect(error.issues?.[0]?.path).toBe("sftp");
  });

  it("an App Service app by name, resource group and subscription is reached through its SCM site and ARM", () => {
    const options = resolve({ home: { appService: "contoso", resourceGroup: "web", subscription, publishingUser: "$contoso", publishingPassword: "${env:PUBLISH}" } }, { PUBLISH: "publish-password-1234" });
    expect(options.app.home).toBe("https://contoso.scm.azurewebsites.net/");
    expect(options.app.remote).toEqual({
      kind: "app-service",
      address: { name: "contoso", scmUrl: "https://contoso.scm.azurewebsites.net/", resourceId: `/subscriptions/${subscription}/resourceGroups/web/providers/Microsoft.Web/sites/contoso` },
      publishingUser: "$contoso",
      publishingPassword: "publish-password-1234",
    });
  });

  it("an SCM URL alone is an App Service home too", () => {
    const options = resolve({ home: "https://contoso-a6gq.scm.westeurope-01.azurewebsites.net/" });
    expect(options.app.remote).toMatchObject({ kind: "app-service", address: { scmUrl: "https://contoso-a6gq.scm.westeurope-01.azurewebsites.net/" } });
  });

  it("refuses a publishing user without its password, and names the key of a bad App Service form", () => {
    expect(failure(() => resolve({ home: { appService: "contoso", resourceGroup: "web", subscription, publishingUser: "$contoso" } })).message).toMatch(/publishingUser and publishingPassword go together/);
    const error = failure(() => resolve({ home: { appService: "not a name!", resourceGroup: "web", subscription } }));
    expect(error.code).toBe("CONFIG_INVALID");
    expect(error.issues?.[0]?.path).toMatch(/^home\./);
  });

  it("refuses a home of no known form, saying which forms there are", () => {
    const error = failure(() => resolve({ home: { folder: "/srv" } }));
    expect(error.describe()).toMatch(/home/);
  });

  it("every remote home secret is masked in what a run prints", () => {
    const sftp = resolve({ home: "sftp://u@vm/srv/app", sftp: { privateKey: "${env:KEY}", password: "${env:PASS}", passphrase: "${env:PHRASE}" } }, { KEY: "PRIVATE-KEY-TEXT-0123456789", PASS: "ssh-password-0123", PHRASE: "phrase-0123456" });
    const redactor = redactorFor(sftp);
    expect(redactor.redact("key PRIVATE-KEY-TEXT-0123456789 pass ssh-password-0123 phrase phrase-0123456")).not.toMatch(/0123/);
    const appService = resolve({ home: { appService: "contoso", resourceGroup: "web", subscription, publishingUser: "$contoso", publishingPassword: "${env:PUBLISH}" } }, { PUBLISH: "publish-password-1234" });
    expect(redactorFor(appService).redact("said publish-password-1234")).not.toContain("publish-password-1234");
  });
});

describe("inline apps (the Action's inputs) with a remote home", () => {
  const wording: InlineWording = {
    name: (key) => `input ${key}`,
    missing: () => new AppBackupError("USAGE", "missing"),
    containerHint: "",
    accountUrlHint: "",
    containerNotUsedHint: "",
    settingsFileHint: "",
    invalidHeading: "The action's inputs are invalid:",
    invalidHint: "",
  };

  it("an sftp:// home takes its login from the sftp inputs", async () => {
    const options = await resolveInlineApp(
      { appName: "contoso", home: "sftp://deploy@vm/srv/app", storage: "file:./backups", databases: [], sftp: { privateKey: "KEY TEXT", knownHosts: "known_hosts" } },
      { needsHome: true, baseDir: "/work/repo", env: {}, wording },
    );
    expect(options.app.remote).toMatchObject({ kind: "sftp", privateKey: "KEY TEXT", knownHosts: "/work/repo/known_hosts" });
  });

  it("an SCM URL with publishing credentials is an App Service home signed in with them", async () => {
    const options = await resolveInlineApp(
      { appName: "contoso", home: "https://contoso.scm.azurewebsites.net/", storage: "file:./backups", databases: [], publishing: { user: "$contoso", password: "pw-0123456789" } },
      { needsHome: true, baseDir: "/work/repo", env: {}, wording },
    );
    expect(options.app.remote).toMatchObject({ kind: "app-service", publishingUser: "$contoso", publishingPassword: "pw-0123456789" });
  });
});
