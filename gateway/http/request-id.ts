import { randomUUID } from "node:crypto";

const CLIENT_REQUEST_ID = /^[A-Za-z0-9._:-]{1,128}$/;

/** The client's `x-request-id` when it is 1–128 safe characters, else a new UUID (SPEC §3). */
export function requestIdFor(clientValue: string | string[] | undefined): string {
  return typeof clientValue === "string" && CLIENT_REQUEST_ID.test(clientValue) ? clientValue : randomUUID();
}
