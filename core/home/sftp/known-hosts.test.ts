import { execFileSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { checkHostKey, hostKeyFingerprint, hostKeyRefusal, knownHostKeyTypes } from "./known-hosts.js";

let folder: string;
/** Real keys made by ssh-keygen: "ssh-ed25519 AAAA…" lines and their blobs. */
const keys: Record<"a" | "b" | "rsa", { line: string; blob: Buffer; file: string }> = {} as never;

beforeAll(() => {
  folder = mkdtempSync(path.join(os.tmpdir(), "known-hosts-"));
  for (const [name, type] of [["a", "ed25519"], ["b", "ed25519"], ["rsa", "rsa"]] as const) {
    const file = path.join(folder, name);
    execFileSync("ssh-keygen", ["-q", "-t", type, ...(type === "rsa" ? ["-b", "2048"] : []), "-N", "", "-C", "", "-f", file]);
    const line = readFileSync(`${file}.pub`, "utf8").trim();
    keys[name] = { line, blob: Buffer.from(line.split(" ")[1]!, "base64"), file: `${file}.pub` };
  }
});

afterAll(() => rmSync(folder, { recursive: true, force: true }));

describe("checkHostKey", () => {
  it("matches a plain name on port 22 and [host]:port on others", () => {
    const text = `example.com ${keys.a.line}\n[example.com]:2222 ${keys.b.line}\n`;
    expect(checkHostKey(text, "example.com", 22, keys.a.blob)).toEqual({ result: "match", line: 1 });
    expect(checkHostKey(text, "EXAMPLE.com", 2222, keys.b.blob)).toEqual({ result: "match", line: 2 });
    expect(checkHostKey(text, "example.com", 2200, keys.a.blob).result).toBe("unknown");
  });

  it("matches comma lists, * and ? patterns, and honours ! negation", () => {
    const text = [`# servers`, `web1,web2.example.com ${keys.a.line}`, `*.internal,!secret.internal ${keys.b.line}`, `[db?.example.com]:* ${keys.a.line}`].join("\n");
    expect(checkHostKey(text, "web2.example.com", 22, keys.a.blob).result).toBe("match");
    expect(checkHostKey(text, "app.internal", 22, keys.b.blob).result).toBe("match");
    expect(checkHostKey(text, "secret.internal", 22, keys.b.blob).result).toBe("unknown");
    expect(checkHostKey(text, "db1.example.com", 2022, keys.a.blob).result).toBe("match");
    expect(checkHostKey(text, "db10.example.com", 2022, keys.a.blob).result).toBe("unknown");
  });

  it("matches entries hashed by ssh-keygen -H", () => {
    const file = path.join(folder, "hashed_known_hosts");
    writeFileSync(file, `example.com ${keys.a.line}\n[10.0.0.5]:2222 ${keys.b.line}\n`);
    execFileSync("ssh-keygen", ["-H", "-f", file], { stdio: "ignore" });
    const text = readFileSync(file, "utf8");
    expect(text).toMatch(/^\|1\|/);
    expect(text).not.toContain("example.com");
    expect(checkHostKey(text, "example.com", 22, keys.a.blob).result).toBe("match");
    expect(checkHostKey(text, "10.0.0.5", 2222, keys.b.blob).result).toBe("match");
    expect(checkHostKey(text, "10.0.0.5", 2222, keys.a.blob).result).toBe("changed");
    expect(checkHostKey(text, "example.org", 22, keys.a.blob).result).toBe("unknown");
  });

  it("reports a changed key when another key of the same type is listed", () => {
    const text = `example.com ${keys.a.line}\n`;
    expect(checkHostKey(text, "example.com", 22, keys.b.blob)).toMatchObject({ result: "changed", line: 1 });
  });

  it("treats a host listed only with other key types as unknown, and tells which types are listed", () => {
    const text = `example.com ${keys.rsa.line}\n`;
    expect(checkHostKey(text, "example.com", 22, keys.a.blob).result).toBe("unknown");
    expect(knownHostKeyTypes(`${text}example.com ${keys.a.line}\nother ${keys.b.line}\n`, "example.com", 22)).toEqual(["ssh-rsa", "ssh-ed25519"]);
  });

  it("refuses a @revoked key even when another line lists it", () => {
    const text = `example.com ${keys.a.line}\n@revoked * ${keys.a.line}\n`;
    expect(checkHostKey(text, "example.com", 22, keys.a.blob)).toMatchObject({ result: "revoked", line: 2 });
  });

  it("ignores @cert-authority lines and damaged lines", () => {
    const text = `@cert-authority *.example.com ${keys.a.line}\nexample.com ssh-ed25519 bm90IGEga2V5\nexample.com ssh-ed25519\n`;
    expect(checkHostKey(text, "www.example.com", 22, keys.a.blob).result).toBe("unknown");
    expect(checkHostKey(text, "example.com", 22, keys.a.blob).result).toBe("unknown");
  });
});

describe("hostKeyFingerprint", () => {
  it("is the fingerprint ssh-keygen -l prints", () => {
    for (const key of Object.values(keys)) {
      const printed = execFileSync("ssh-keygen", ["-l", "-E", "sha256", "-f", key.file], { encoding: "utf8" }).split(" ")[1];
      expect(hostKeyFingerprint(key.blob)).toBe(printed);
    }
  });
});

describe("hostKeyRefusal", () => {
  it("says the fingerprint of an unknown host and how to add it", () => {
    const check = checkHostKey("", "127.0.0.1", 2222, keys.a.blob);
    if (check.result === "match") throw new Error("unexpected match");
    const text = hostKeyRefusal(check, "127.0.0.1", 2222, "/root/.ssh/known_hosts").describe();
    expect(text).toContain(hostKeyFingerprint(keys.a.blob));
    expect(text).toContain("[127.0.0.1]:2222");
    expect(text).toContain("ssh-keyscan -p 2222 127.0.0.1 >> ~/.ssh/known_hosts");
    expect(text).toContain("knownHosts");
  });

  it("refuses a changed key loudly, naming the line", () => {
    const check = checkHostKey(`example.com ${keys.a.line}`, "example.com", 22, keys.b.blob);
    if (check.result === "match") throw new Error("unexpected match");
    const error = hostKeyRefusal(check, "example.com", 22, "/etc/kh");
    expect(error.code).toBe("HOME_REFUSED");
    expect(error.message).toContain("HAS CHANGED");
    expect(error.message).toContain("/etc/kh (line 1)");
    expect(error.message).toContain("man-in-the-middle");
  });
});
