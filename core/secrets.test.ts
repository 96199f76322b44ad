import { describe, expect, it } from "vitest";
import { displayUrl, Redactor, redactPatterns, secretsInConnectionString } from "./secrets.js";

describe("secrets", () => {
  it("finds the credential in every connection-string form", () => {
    expect(secretsInConnectionString("postgres://app:p%40ss@db:5432/main")).toEqual(expect.arrayContaining(["p%40ss", "p@ss"]));
    expect(secretsInConnectionString("Server=db;Database=x;User Id=sa;Password=Sup3r;Secret;")).toContain("Sup3r");
    expect(secretsInConnectionString('Server=db;Pwd="quoted;pw";')).toContain("quoted;pw");
    expect(secretsInConnectionString("host=db dbname=x password='a b\\'c'")).toContain("a b'c");
    expect(secretsInConnectionString("DefaultEndpointsProtocol=https;AccountName=a;AccountKey=KEY123==;")).toContain("KEY123==");
  });

  it("masks registered secrets and credential patterns it was not told about", () => {
    const redactor = new Redactor();
    redactor.add("hunter2-password");
    const text = redactor.redact(
      "failed: hunter2-password at https://a.blob.core.windows.net/c/x.zip?sv=2024&sig=abc%2Fdef&se=2030 and AccountKey=xyz== and mysql://root:pw@h/db Password=zzz;",
    );
    expect(text).not.toMatch(/hunter2|abc%2Fdef|xyz==|:pw@|zzz/);
    expect(text).toContain("sig=***");
    expect(text).toContain("AccountKey=***");
  });

  it("prints URLs without SAS or user info", () => {
    expect(displayUrl("https://a.blob.core.windows.net/c?sv=1&sig=s")).toBe("https://a.blob.core.windows.net/c");
    expect(displayUrl("postgres://u:p@h:5432/db")).toBe("postgres://h:5432/db");
    expect(redactPatterns("no secret here")).toBe("no secret here");
  });
});
