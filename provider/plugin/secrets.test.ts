import { specialSecretSig, specialSigKey } from "@pulumi/pulumi/runtime/rpc.js";
import { describe, expect, it } from "vitest";
import { withSecrets, withoutSecrets } from "./secrets.js";

const secret = (value: unknown) => ({ [specialSigKey]: specialSecretSig, value });

describe("secret markers of the engine's properties", () => {
  it("come off at any depth, and the keys that held one are named", () => {
    const properties = { name: "shop", storage: secret("https://a/c?sig=x"), connectionStrings: { MainDb: { type: "Custom", value: secret("pw") } }, tags: ["a", secret("b")] };
    expect(withoutSecrets(properties)).toEqual({
      values: { name: "shop", storage: "https://a/c?sig=x", connectionStrings: { MainDb: { type: "Custom", value: "pw" } }, tags: ["a", "b"] },
      secretKeys: ["storage", "connectionStrings", "tags"],
    });
  });

  it("go on the named keys that have a value", () => {
    expect(withSecrets({ name: "shop", storage: "file:./b", filter: null }, ["storage", "filter", "settings"])).toEqual({ name: "shop", storage: secret("file:./b"), filter: null });
  });
});
