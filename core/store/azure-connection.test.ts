import { RestError } from "@azure/storage-blob";
import { describe, expect, it } from "vitest";
import { AzureConnection } from "./azure-connection.js";

const sasUrl = (terms: string) => `http://127.0.0.1:1/devstoreaccount1/c?sv=2024-01-01&${terms}&sig=U0VDUkVU`;
const connectionTo = (containerUrl: string) => new AzureConnection({ kind: "azure-sas", containerUrl }, {});

/** Every action the store and its locks pass when a call fails. */
const actions = [
  "list the container",
  "create the container",
  "read shop_1.xml",
  "write shop_1.log",
  "write the metadata of shop_1.xml",
  "delete shop_1.zip",
  "upload shop_1.zip",
  "commit shop_1.zip",
  "lease shop.lock",
  "renew the lease on shop.lock",
  "release the lease on shop.lock",
  "create the lock blob shop.lock",
  "read the lock shop.lock",
];

describe("AzureConnection.describe", () => {
  const connection = connectionTo(sasUrl("sp=racwdl"));

  it.each(actions.map((action) => [action]))("an unreachable endpoint reads plainly when it could not %s", (action) => {
    const refused = Object.assign(new RestError("connect ECONNREFUSED 127.0.0.1:1", { code: "REQUEST_SEND_ERROR" }), { cause: { code: "ECONNREFUSED" } });
    const error = connection.describe(refused, action);
    expect(error.code).toBe("STORAGE_UNREACHABLE");
    expect(error.message).toBe(`Could not ${action}: Azure Storage at http://127.0.0.1:1/devstoreaccount1/c cannot be reached: the connection was refused (ECONNREFUSED).`);
  });

  it("takes a 5xx the SDK kept getting after its retries for an outage, not a failure of the run", () => {
    const error = connection.describe(new RestError("busy", { statusCode: 503, code: "ServerBusy" }), "list the container");
    expect(error.code).toBe("STORAGE_UNREACHABLE");
    expect(error.message).toBe("Could not list the container: Azure Storage at http://127.0.0.1:1/devstoreaccount1/c kept answering HTTP 503 ServerBusy, every retry included.");
  });

  it("names the permissions a SAS needs as the README does, in a hint whose parentheses close", () => {
    const error = connection.describe(new RestError("denied", { statusCode: 403, code: "AuthorizationPermissionMismatch" }), "write shop_1.log");
    expect(error.code).toBe("STORAGE_AUTH");
    expect(error.message).toBe("Azure Storage refused to write shop_1.log at http://127.0.0.1:1/devstoreaccount1/c (HTTP 403 AuthorizationPermissionMismatch).");
    expect(error.hint).toBe(
      "Check the SAS token: it must be signed with a current account key, be in force now, and grant read, add, create, write, delete and list (sp=racwdl) on the container.",
    );
    for (const text of [error.message, error.hint!]) expect(text.split("(").length).toBe(text.split(")").length);
  });

  it("calls a refused SAS expired when its se is past, and not yet valid when its st is ahead", () => {
    const refusal = new RestError("denied", { statusCode: 403, code: "AuthenticationFailed" });
    const expired = connectionTo(sasUrl("sp=racwdl&se=2020-01-01T00:00:00Z")).describe(refusal, "list the container");
    expect(expired.code).toBe("STORAGE_AUTH");
    expect(expired.message).toBe(
      "The SAS token in backup.storage expired at 2020-01-01T00:00:00.000Z, so Azure Storage refuses to list the container at http://127.0.0.1:1/devstoreaccount1/c (HTTP 403 AuthenticationFailed).",
    );
    expect(expired.hint).toMatch(/^Create a new container SAS granting read, add, create, write, delete and list \(sp=racwdl\)/);
    const early = connectionTo(sasUrl("sp=racwdl&st=2999-01-01T00:00:00Z")).describe(refusal, "read shop_1.xml");
    expect(early.message).toMatch(/^The SAS token in backup\.storage is not valid until 2999-01-01T00:00:00\.000Z, so Azure Storage refuses to read shop_1\.xml/);
  });

  it("without a SAS, points at the key or the identity", () => {
    const keyed = new AzureConnection({ kind: "azure-connection-string", connectionString: "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;AccountKey=a2V5;BlobEndpoint=http://127.0.0.1:1/devstoreaccount1;", container: "c" }, {});
    const error = keyed.describe(new RestError("denied", { statusCode: 403, code: "AuthenticationFailed" }), "list the container");
    expect(error.hint).toMatch(/^Check the account key or the identity/);
  });
});
