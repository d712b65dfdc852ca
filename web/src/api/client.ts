/**
 * The typed API client: openapi-fetch over the types that openapi-typescript generates
 * from the server's OpenAPI document (`npm run gen:api` reads src/api/openapi.json).
 */
import createClient from "openapi-fetch";
import type { components, paths } from "./schema";

export type Schemas = components["schemas"];
export type Project = Schemas["ProjectOut"];
export type Task = Schemas["TaskOut"];
export type Asset = Schemas["AssetOut"];
export type User = Schemas["UserOut"];
export type SchemaVersion = Schemas["SchemaOut"];
export type Revision = Schemas["labelproof__api__models__RevisionOut"];
export type SaveOut = Schemas["SaveOut"];
export type Member = Schemas["MemberOut"];
// QA workflow (docs/qa-workflow.md).
export type Assignment = Schemas["AssignmentOut"];
export type StaffAssignment = Schemas["StaffAssignmentOut"];
export type QaRevision = Schemas["labelproof__api__routers__qa_bodies__RevisionOut"];
export type ReviewItem = Schemas["ReviewItemOut"];
export type Sop = Schemas["SopOut"];
export type SopIn = Schemas["SopIn"];
export type Escalation = Schemas["EscalationOut"];
export type ErrorIn = Schemas["ErrorIn"];
export type ErrorType = ErrorIn["type"];
export type Verdict = Schemas["VerdictIn"]["verdict"];

export const api = createClient<paths>({ baseUrl: "", credentials: "same-origin" });

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

/** The session's CSRF token: the readable `labelproof_csrf` cookie set at sign-in. */
export function csrfToken(): string | null {
  for (const part of document.cookie.split(";")) {
    const [name, ...rest] = part.trim().split("=");
    if (name === "labelproof_csrf") return decodeURIComponent(rest.join("="));
  }
  return null;
}

// Unsafe requests echo the CSRF cookie in X-CSRF-Token (double submit; docs/security.md).
api.use({
  onRequest({ request }) {
    if (SAFE_METHODS.has(request.method.toUpperCase())) return request;
    const token = csrfToken();
    if (token) request.headers.set("X-CSRF-Token", token);
    return request;
  },
});

/** A failed call: the server's `{code, message, field, details}` body and HTTP status. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly field: string | null = null,
    readonly details: Record<string, unknown> | null = null,
  ) {
    super(message);
    this.name = "ApiError";
  }

  /** Network failures (status 0), 5xx, 408 and 429 are worth retrying; others are not. */
  get retryable(): boolean {
    return this.status === 0 || this.status >= 500 || this.status === 408 || this.status === 429;
  }
}

interface ErrorBody {
  code?: string;
  message?: string;
  field?: string | null;
  details?: Record<string, unknown> | null;
}

/** Turn an openapi-fetch result into its data, or throw ApiError. */
export function unwrap<T>(result: { data?: T; error?: unknown; response: Response }): T {
  if (result.response.ok && result.data !== undefined) return result.data;
  if (result.response.ok) return undefined as T;
  const body = (result.error ?? {}) as ErrorBody;
  throw new ApiError(
    result.response.status,
    body.code ?? "http_error",
    body.message ?? `HTTP ${result.response.status}`,
    body.field ?? null,
    body.details ?? null,
  );
}

/** Await an openapi-fetch call, mapping a network failure to ApiError(status 0). */
export async function call<T>(
  promise: Promise<{ data?: T; error?: unknown; response: Response }>,
): Promise<T> {
  let result;
  try {
    result = await promise;
  } catch (err) {
    throw new ApiError(0, "network", `network error: ${(err as Error).message}`);
  }
  return unwrap(result);
}

export function contentUrl(projectId: number, assetId: number): string {
  return `/api/projects/${projectId}/assets/${assetId}/content`;
}

/** A small JPEG of the asset (largest side `max` px) for lists. */
export function thumbnailUrl(projectId: number, assetId: number, max = 256): string {
  return `/api/projects/${projectId}/assets/${assetId}/thumbnail?max=${max}`;
}

/** One Deep Zoom tile of the asset's pyramid. */
export function tileUrl(projectId: number, assetId: number, level: number, col: number, row: number): string {
  return `/api/projects/${projectId}/assets/${assetId}/tiles/${level}/${col}_${row}.jpg`;
}

/** A random key for Idempotency-Key (randomUUID needs a secure context; fall back). */
export function randomKey(): string {
  const bytes = new Uint8Array(16);
  crypto.getRandomValues(bytes);
  return Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join("");
}
