import { readdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { makeWorkspace, removeTemporaryFolders, temporaryFolder, zipEntries } from "../support/action-workspace.js";
import { startKuduStandIn, type KuduStandIn } from "../support/kudu-stand-in.js";
import { runAction, type ActionRun } from "../support/run-action.js";
import { startSshd, type TestSshd } from "../support/sshd.js";

/**
 * The bundled Action, run the way GitHub's runner runs it, backing up an app
 * that is not on the runner: over SFTP from a real OpenSSH server, and from
 * an App Service app through the Kudu stand-in.
 */

let sshd: TestSshd;
let kudu: KuduStandIn;
const publishingPassword = "Action-publish-pw-4b7e21";

beforeAll(async () => {
  sshd = await startSshd();
});
afterAll(async () => {
  await kudu?.stop();
  await sshd?.stop();
  await removeTemporaryFolders();
});

function everythingVisible(run: ActionRun): string {
  return [run.visibleLog, run.stderr, run.files].join("\n");
}

describe("the Action with a remote home", () => {
  it("backs up an sftp:// home with the key given as a secret input; the key is masked line by line and never shown", async () => {
    const { workspace, home } = await makeWorkspace();
    const container = await temporaryFolder("action-sftp-backups-");
    await writeFile(path.join(workspace, "known_hosts"), `${sshd.hostKeyLine}\n`);

    const run = await runAction({
      workspace,
      inputs: {
        "app-name": "shop",
        home: `sftp://${sshd.user}@127.0.0.1:${sshd.port}${home}`,
        "ssh-key": sshd.clientKeyText,
        "ssh-known-hosts": "known_hosts",
        storage: `file:${container}`,
      },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("Succeeded");
    expect(run.outputs.files).toBe("3");
    const name = run.outputs["backup-name"]!;
    expect(Object.keys(zipEntries(path.join(container, `${name}.zip`)))).toEqual(expect.arrayContaining(["fs/site/wwwroot/index.html", "fs/site/wwwroot/css/site.css"]));

    const keyLines = sshd.clientKeyText.split("\n").map((line) => line.trim()).filter((line) => line && !line.startsWith("-----"));
    for (const line of keyLines) expect(run.masked).toContain(line);
    for (const line of keyLines) expect(everythingVisible(run)).not.toContain(line);
  });

  it("backs up an App Service app by its SCM URL with the publishing credentials as inputs; the password is masked", async () => {
    const { workspace, home } = await makeWorkspace();
    kudu = await startKuduStandIn({ home, credentials: { user: "$shop", password: publishingPassword } });
    const container = await temporaryFolder("action-kudu-backups-");
    const run = await runAction({
      workspace,
      inputs: { "app-name": "shop", home: kudu.scmUrl, "publishing-user": "$shop", "publishing-password": publishingPassword, storage: `file:${container}` },
    });
    expect(run.errors).toEqual([]);
    expect(run.code).toBe(0);
    expect(run.outputs.status).toBe("Succeeded");
    expect(run.masked).toContain(publishingPassword);
    expect(everythingVisible(run)).not.toContain(publishingPassword);
    expect((await readdir(container)).filter((file) => file.endsWith(".zip"))).toHaveLength(1);
  });

  it("a remote home the runner cannot reach fails the step with exit code 13 and says which home", async () => {
    const { workspace } = await makeWorkspace();
    const container = await temporaryFolder("action-unreachable-");
    await writeFile(path.join(workspace, "known_hosts"), `${sshd.hostKeyLine}\n`);
    const run = await runAction({
      workspace,
      inputs: { "app-name": "shop", home: "sftp://deploy@127.0.0.1:9/srv/shop", "ssh-key": sshd.clientKeyText, "ssh-known-hosts": "known_hosts", storage: `file:${container}` },
    });
    expect(run.code).toBe(13);
    expect(run.outputs["exit-code"]).toBe("13");
    expect(run.errors.join("\n")).toMatch(/sftp:\/\/deploy@127\.0\.0\.1:9\/srv\/shop/);
  });
});
