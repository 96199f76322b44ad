import { randomUUID } from "node:crypto";
import { existsSync } from "node:fs";
import { mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createPulumiTestStack, installedPulumiSdkVersion, type PulumiTestStack } from "./support/pulumi.js";

interface TextFileState {
  path: string;
  content: string;
}

// The engine runs this provider in its own Node process from a serialized copy of these functions, so
// they must not capture this module's imports: they load what they need by name when they run.
const textFileProvider: pulumi.dynamic.ResourceProvider<TextFileState, TextFileState> = {
  async create(inputs) {
    process.getBuiltinModule("node:fs").writeFileSync(inputs.path, inputs.content);
    return { id: inputs.path, outs: inputs };
  },
  async update(_id, _olds, news) {
    process.getBuiltinModule("node:fs").writeFileSync(news.path, news.content);
    return { outs: news };
  },
  async delete(_id, props) {
    process.getBuiltinModule("node:fs").rmSync(props.path, { force: true });
  },
  async read(id) {
    const fs = process.getBuiltinModule("node:fs");
    if (!fs.existsSync(id)) return {};
    const current: TextFileState = { path: id, content: fs.readFileSync(id, "utf8") };
    return { id, props: current, inputs: current };
  },
};

class TextFile extends pulumi.dynamic.Resource {
  declare readonly path: pulumi.Output<string>;
  declare readonly content: pulumi.Output<string>;

  constructor(name: string, args: { path: pulumi.Input<string>; content: pulumi.Input<string> }) {
    super(textFileProvider, name, { ...args }, {});
  }
}

async function readBackendFiles(dir: string): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const file = join(entry.parentPath, entry.name);
    files.set(file, await readFile(file, "utf8"));
  }
  return files;
}

async function textFileStateContent(target: PulumiTestStack): Promise<unknown> {
  const resources = (await target.stack.exportStack()).deployment.resources as Array<{ type: string; outputs?: Record<string, unknown> }>;
  return resources.find((resource) => resource.type === "pulumi-nodejs:dynamic:Resource")?.outputs?.content;
}

describe("Pulumi engine with a dynamic resource", () => {
  let filesDir: string;
  let filePath: string;
  let content = "first version";
  let target: PulumiTestStack;

  beforeAll(async () => {
    filesDir = await mkdtemp(join(tmpdir(), "app-backup-dynamic-"));
    filePath = join(filesDir, "managed.txt");
    target = await createPulumiTestStack({
      projectName: "engine-lifecycle",
      program: async () => {
        const file = new TextFile("managed-file", { path: filePath, content });
        return { content: file.content };
      },
    });
  });

  afterAll(async () => {
    await target?.cleanup();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  it("runs the CLI built at the same version as @pulumi/pulumi", async () => {
    expect(await target.stack.workspace.pulumiVersion).toBe(await installedPulumiSdkVersion());
  });

  it("up creates the resource", async () => {
    const result = await target.stack.up();

    expect(result.summary.result).toBe("succeeded");
    expect(result.summary.resourceChanges).toEqual({ create: 2 });
    expect(await readFile(filePath, "utf8")).toBe("first version");
    expect(result.outputs.content.value).toBe("first version");
  });

  it("preview after up shows no changes", async () => {
    const result = await target.stack.preview();

    expect(result.changeSummary).toEqual({ same: 2 });
  });

  it("changing an input updates the resource in place", async () => {
    content = "second version";
    const preview = await target.stack.preview();
    const result = await target.stack.up();

    expect(preview.changeSummary).toEqual({ same: 1, update: 1 });
    expect(result.summary.resourceChanges).toEqual({ same: 1, update: 1 });
    expect(await readFile(filePath, "utf8")).toBe("second version");
    expect(result.outputs.content.value).toBe("second version");
  });

  it("refresh of an unchanged resource shows no changes", async () => {
    const result = await target.stack.refresh();

    expect(result.summary.resourceChanges).toEqual({ same: 2 });
    expect(await textFileStateContent(target)).toBe("second version");
  });

  it("refresh records a change made outside Pulumi, and the next up puts the input back", async () => {
    await writeFile(filePath, "edited by hand");
    const refresh = await target.stack.refresh();

    expect(refresh.summary.resourceChanges).toEqual({ same: 1, update: 1 });
    expect(await textFileStateContent(target)).toBe("edited by hand");

    const up = await target.stack.up();
    expect(up.summary.resourceChanges).toEqual({ same: 1, update: 1 });
    expect(await readFile(filePath, "utf8")).toBe("second version");
  });

  it("destroy deletes the resource and empties the stack", async () => {
    const result = await target.stack.destroy();

    expect(result.summary.resourceChanges).toEqual({ delete: 2 });
    expect(existsSync(filePath)).toBe(false);
    expect((await target.stack.exportStack()).deployment.resources ?? []).toEqual([]);
  });
});

describe("Pulumi engine with a secret input", () => {
  const secretValue = `backup-password-${randomUUID()}`;
  let filesDir: string;
  let filePath: string;
  let target: PulumiTestStack;

  beforeAll(async () => {
    filesDir = await mkdtemp(join(tmpdir(), "app-backup-dynamic-"));
    filePath = join(filesDir, "secret.txt");
    target = await createPulumiTestStack({
      projectName: "engine-secret",
      program: async () => {
        const file = new TextFile("secret-file", { path: filePath, content: pulumi.secret(secretValue) });
        return { content: file.content };
      },
    });
  });

  afterAll(async () => {
    await target?.cleanup();
    if (filesDir) await rm(filesDir, { recursive: true, force: true });
  });

  it("hands the secret to the provider but stores it only encrypted", async () => {
    const result = await target.stack.up();

    expect(await readFile(filePath, "utf8")).toBe(secretValue);
    expect(result.outputs.content.secret).toBe(true);

    const state = await target.readState();
    // Pulumi marks each encrypted value in the state with this signature key.
    expect(state).toContain("4dabf18193072939515e22adb298388d");
    expect(state).not.toContain(secretValue);

    const backendFiles = await readBackendFiles(target.backendDir);
    expect(backendFiles.has(target.stateFilePath)).toBe(true);
    for (const [file, text] of backendFiles) {
      expect(text.includes(secretValue), `${file} holds the secret in plaintext`).toBe(false);
    }
  });
});
