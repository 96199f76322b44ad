import type { Azurite } from "./azurite.js";

/** The sorted names of the blobs in a container of Azurite's. */
export async function blobNamesIn(azurite: Azurite, container: string): Promise<string[]> {
  const names: string[] = [];
  for await (const blob of azurite.service.getContainerClient(container).listBlobsFlat()) names.push(blob.name);
  return names.sort();
}

/** Text of a blob in Azurite. */
export async function blobText(azurite: Azurite, container: string, name: string): Promise<string> {
  return (await azurite.service.getContainerClient(container).getBlobClient(name).downloadToBuffer()).toString("utf8");
}

export async function putBlobText(azurite: Azurite, container: string, name: string, text: string): Promise<void> {
  await azurite.service.getContainerClient(container).getBlockBlobClient(name).upload(text, Buffer.byteLength(text));
}
