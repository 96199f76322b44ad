import { describe, expect, it } from "vitest";
import { missingSasPermissions, sasOutOfTerm, sasTermsOf } from "./sas.js";

describe("sasTermsOf", () => {
  it("reads the permissions and the times a SAS carries", () => {
    expect(sasTermsOf("https://a.blob.core.windows.net/c?sv=1&sp=rl&st=2026-01-01T00:00:00Z&se=2026-02-01T00:00:00Z&sig=x")).toEqual({
      permissions: "rl",
      startsAt: new Date("2026-01-01T00:00:00Z"),
      expiresAt: new Date("2026-02-01T00:00:00Z"),
    });
  });

  it("is undefined for an address without a SAS, and leaves out what a stored policy grants", () => {
    expect(sasTermsOf("https://a.blob.core.windows.net/c")).toBeUndefined();
    expect(sasTermsOf("https://a.blob.core.windows.net/c?sv=1&si=policy&sig=x")).toEqual({});
  });
});

describe("sasOutOfTerm", () => {
  const now = new Date("2026-06-01T00:00:00Z");
  it("says when a SAS expired or starts, and nothing while it is in force", () => {
    expect(sasOutOfTerm({ expiresAt: new Date("2026-05-01T00:00:00Z") }, now)).toBe("expired at 2026-05-01T00:00:00.000Z");
    expect(sasOutOfTerm({ startsAt: new Date("2026-07-01T00:00:00Z") }, now)).toBe("is not valid until 2026-07-01T00:00:00.000Z");
    expect(sasOutOfTerm({ startsAt: new Date("2026-05-01T00:00:00Z"), expiresAt: new Date("2026-07-01T00:00:00Z") }, now)).toBeUndefined();
  });
});

describe("missingSasPermissions", () => {
  it("names each letter a use needs that the SAS does not grant", () => {
    expect(missingSasPermissions({ permissions: "rl" }, "cw")).toEqual(["c (create)", "w (write)"]);
    expect(missingSasPermissions({ permissions: "racwdl" }, "cw")).toEqual([]);
    expect(missingSasPermissions({ permissions: "r" }, "rl")).toEqual(["l (list)"]);
    // Without sp= a stored access policy decides: nothing can be told from the token.
    expect(missingSasPermissions({}, "cw")).toEqual([]);
  });
});
