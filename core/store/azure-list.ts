import type { Readable } from "node:stream";
import { createHttpHeaders, createPipelineRequest } from "@azure/core-rest-pipeline";
import { ContainerClient, RestError } from "@azure/storage-blob";
import { AppBackupError } from "../errors.js";
import { MalformedListPageError, parseListPage, type ListPage } from "./list-page.js";

/** The service's largest page, and the default: fewest round trips. */
const maxListPageSize = 5000;

/**
 * The most bytes one page may take: 5,000 blobs with 1 KiB names and 8 KiB
 * of metadata each, escaped, fit; a reply larger than that is not a page the
 * service wrote, and is cut off before it can take the process's memory.
 */
const maxPageBytes = 96 * 1024 * 1024;

/** Objects per List Blobs request: the service's largest page unless a caller wants only the first few. */
export function listPageSizeOf(pageSize: number | undefined): number {
  if (pageSize === undefined) return maxListPageSize;
  if (!Number.isInteger(pageSize) || pageSize < 1 || pageSize > maxListPageSize) {
    throw new AppBackupError("USAGE", `A listing's page size is ${pageSize}; expected a whole number from 1 to ${maxListPageSize}.`);
  }
  return pageSize;
}

export interface ListPageQuery {
  prefix: string;
  marker: string | undefined;
  pageSize: number;
  includeMetadata: boolean;
}

/**
 * The SDK's container client with one more call: a page of List Blobs read
 * by `parseListPage` instead of the SDK's deserializer, which spends longer
 * building a tree of every property of every blob than the service spends
 * listing them. The request goes through the client's own pipeline, so
 * authentication (SAS, shared key, Entra ID), the SDK's retries and the
 * service version are the same as for every other call.
 */
export class ListingContainerClient extends ContainerClient {
  async listPage(query: ListPageQuery, abortSignal: AbortSignal): Promise<ListPage> {
    const request = createPipelineRequest({
      url: this.listUrl(query),
      method: "GET",
      headers: createHttpHeaders({ accept: "application/xml", "x-ms-version": this.storageClientContext.version }),
      abortSignal,
      // As the SDK sets it for every call of its clients: the scheme is the one the container's URL gives (Azurite's is http).
      allowInsecureConnection: true,
      // The page's body comes back as a stream, not parsed by the pipeline's deserializer.
      streamResponseStatusCodes: new Set([200]),
    });
    const response = await this.storageClientContext.sendRequest(request);
    if (response.status !== 200) {
      const code = response.headers.get("x-ms-error-code") ?? undefined;
      throw new RestError(`List Blobs failed with HTTP ${response.status}${code ? ` ${code}` : ""}.`, { statusCode: response.status, code, request, response });
    }
    const body = response.readableStreamBody as Readable | undefined;
    if (!body) throw new MalformedListPageError("it had no body");
    return parseListPage(await bytesOf(body));
  }

  private listUrl(query: ListPageQuery): string {
    const parameters = [
      "restype=container",
      "comp=list",
      ...(query.prefix ? [`prefix=${encodeURIComponent(query.prefix)}`] : []),
      ...(query.includeMetadata ? ["include=metadata"] : []),
      `maxresults=${query.pageSize}`,
      ...(query.marker ? [`marker=${encodeURIComponent(query.marker)}`] : []),
    ].join("&");
    // The container URL may carry a SAS query: the listing's parameters are added to it.
    return `${this.url}${this.url.includes("?") ? "&" : "?"}${parameters}`;
  }
}

async function bytesOf(body: Readable): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of body) {
    bytes += (chunk as Buffer).length;
    if (bytes > maxPageBytes) {
      body.destroy();
      throw new MalformedListPageError(`it is larger than ${maxPageBytes / 1024 / 1024} MiB`);
    }
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, bytes);
}
