import { execFile } from "node:child_process";
import { cpSync, mkdirSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import { repoRoot } from "../support/cli.js";
import { removeTemporaryFolders, temporaryFolder } from "../support/action-workspace.js";

afterAll(removeTemporaryFolders);

const run = promisify(execFile);
const workflowsDir = path.join(repoRoot, "examples/workflows");
const workflows = readdirSync(workflowsDir).filter((f) => f.endsWith(".yml"));

/** scripts/actionlint.sh (which builds actionlint into .cache/ on first use); resolves with its output and exit code. */
async function actionlint(files: string[]): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(path.join(repoRoot, "scripts/actionlint.sh"), files, { cwd: repoRoot, maxBuffer: 16 * 1024 * 1024 });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failed = error as { code?: number; stdout?: string; stderr?: string };
    return { code: typeof failed.code === "number" ? failed.code : -1, output: `${failed.stdout ?? ""}${failed.stderr ?? ""}` };
  }
}

/**
 * A throwaway repository whose workflows use the Action as `uses: ./`: actionlint
 * then reads this repository's action.yml and checks every `with:` input and
 * every `steps.*.outputs.*` against it, and that its main and post files exist.
 */
async function projectUsingLocalAction(extraWorkflows: Record<string, string> = {}): Promise<string[]> {
  const project = await temporaryFolder("actionlint-project-");
  mkdirSync(path.join(project, ".git"));
  mkdirSync(path.join(project, ".github/workflows"), { recursive: true });
  mkdirSync(path.join(project, "action"));
  cpSync(path.join(repoRoot, "action.yml"), path.join(project, "action.yml"));
  symlinkSync(path.join(repoRoot, "action/dist"), path.join(project, "action/dist"));
  const files: string[] = [];
  const texts = { ...Object.fromEntries(workflows.map((f) => [f, readFileSync(path.join(workflowsDir, f), "utf8")])), ...extraWorkflows };
  for (const [name, text] of Object.entries(texts)) {
    const file = path.join(project, ".github/workflows", name);
    writeFileSync(file, text.replaceAll("uses: contoso/app-backup@v1", "uses: ./"));
    files.push(file);
  }
  return files;
}

describe("examples/workflows", () => {
  it("covers the documented scenarios, each using contoso/app-backup@v1", () => {
    expect(workflows.sort()).toEqual([
      "backup-app-service-then-deploy.yml",
      "backup-before-deploy.yml",
      "nightly-backup.yml",
      "restore-into-staging.yml",
      "scheduled-backups.yml",
      "snapshot-before-migration.yml",
    ]);
    for (const file of workflows) {
      const uses = [...readFileSync(path.join(workflowsDir, file), "utf8").matchAll(/uses:\s*(\S*app-backup\S*)/g)].map((m) => m[1]);
      expect(uses.length, file).toBeGreaterThan(0);
      expect(new Set(uses), file).toEqual(new Set(["contoso/app-backup@v1"]));
    }
  });

  it("pass actionlint", { timeout: 600_000 }, async () => {
    const result = await actionlint([]);
    expect(result.output.replace(/^Building actionlint.*\n/m, "")).toBe("");
    expect(result.code).toBe(0);
  });

  it("pass actionlint against this repository's action.yml, which catches an input or output it does not declare", { timeout: 600_000 }, async () => {
    expect(await actionlint(await projectUsingLocalAction())).toEqual({ code: 0, output: "" });

    const mistaken = `on: push
jobs:
  backup:
    runs-on: ubuntu-latest
    steps:
      - id: backup
        uses: contoso/app-backup@v1
        with:
          app-name: shop
          back-up-name: shop_1
      - run: echo "$ZIP"
        env:
          ZIP: \${{ steps.backup.outputs.zip }}
`;
    const result = await actionlint(await projectUsingLocalAction({ "mistaken.yml": mistaken }));
    expect(result.code).toBe(1);
    expect(result.output).toContain('input "back-up-name" is not defined in action "app-backup"');
    expect(result.output).toContain('property "zip" is not defined in object type');
  });
});
