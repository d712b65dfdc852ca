/**
 * Autosave to the revision API. Each save sends the whole list on top of the revision it
 * was based on, with an Idempotency-Key that stays the same for every retry of the same
 * content (so a save whose answer was lost is not made twice). A stale base (409) stops
 * autosave and hands both versions to the conflict view; network errors and 5xx keep the
 * work and retry with backoff; the work is mirrored to a localStorage draft meanwhile.
 */
import { ApiError, api, call, randomKey, type QaRevision, type Revision } from "../api/client";
import type { Doc } from "./doc";
import type { Annotation } from "./types";

export type SaveState = "saved" | "dirty" | "saving" | "retrying" | "conflict" | "error";

export interface SaveStatus {
  state: SaveState;
  revision: number;
  message: string;
  field: string | null;
  savedAt: Date | null;
}

export interface Conflict {
  mine: Annotation[];
  theirs: AnyRevision | null;
}

export interface Draft {
  base: number;
  annotations: Annotation[];
  at: string;
}

/**
 * Where a document's revisions go: a task's stream or a QA assignment's stream. `draftId`
 * names the localStorage draft (`labelproof:draft:<draftId>`).
 */
export interface SaveTarget {
  readonly draftId: string;
  /** PUT the whole list on top of `base` with an idempotency key; the new revision number. */
  save(base: number, annotations: Annotation[], key: string): Promise<number>;
}

/** A task's own revision stream (`/api/tasks/{t}/annotations`). */
export function taskTarget(taskId: number): SaveTarget {
  return {
    draftId: String(taskId),
    save: async (base, annotations, key) =>
      (
        await call(
          api.PUT("/api/tasks/{task_id}/annotations", {
            params: { path: { task_id: taskId }, header: { "idempotency-key": key } },
            body: { base_revision: base, annotations },
          }),
        )
      ).number,
  };
}

/** A QA assignment's revision stream (`/api/qa/assignments/{a}/annotations`). */
export function assignmentTarget(assignmentId: number): SaveTarget {
  return {
    draftId: `qa-${assignmentId}`,
    save: async (base, annotations, key) =>
      (
        await call(
          api.PUT("/api/qa/assignments/{assignment_id}/annotations", {
            params: { path: { assignment_id: assignmentId }, header: { "idempotency-key": key } },
            body: { base_revision: base, annotations: annotations as unknown as Record<string, unknown>[] },
          }),
        )
      ).number,
  };
}

/** The revision a conflict's other side is (a task's or an assignment's). */
export type AnyRevision = Revision | QaRevision;

const DEBOUNCE_MS = 1200;
const draftKey = (id: string) => `labelproof:draft:${id}`;
const discardedKey = (id: string) => `labelproof:discarded:${id}`;

export function readDraft(id: string): Draft | null {
  try {
    const raw = localStorage.getItem(draftKey(id));
    return raw ? (JSON.parse(raw) as Draft) : null;
  } catch {
    return null;
  }
}

/** The wire form of an annotation (the API rejects unknown keys). */
export function toWire(a: Annotation): Annotation {
  return {
    id: a.id,
    type: a.type,
    label: a.label,
    geometry: a.geometry,
    attributes: a.attributes,
    source: a.source,
    confidence: a.confidence,
    z_order: a.z_order,
    ...(a.frame !== undefined ? { frame: a.frame } : {}),
  };
}

export class Autosaver {
  revision: number;
  private savedVersion: number;
  private pending: { key: string; version: number } | null = null;
  private timer = 0;
  private inFlight = false;
  private again = false;
  private attempts = 0;
  private status: SaveStatus;
  private unsub: () => void;
  private draftTimer = 0;
  enabled = true;

  constructor(
    readonly target: SaveTarget,
    private readonly doc: Doc,
    revision: number,
    private readonly onStatus: (s: SaveStatus) => void,
    private readonly onConflict: (c: Conflict) => void,
  ) {
    this.revision = revision;
    this.savedVersion = doc.version;
    this.status = { state: "saved", revision, message: "", field: null, savedAt: null };
    this.unsub = doc.on((e) => {
      if (e === "items") this.changed();
    });
    window.addEventListener("online", this.onOnline);
  }

  destroy(): void {
    this.unsub();
    clearTimeout(this.timer);
    clearTimeout(this.draftTimer);
    window.removeEventListener("online", this.onOnline);
  }

  private onOnline = () => {
    if (this.status.state === "retrying") this.saveNow();
  };

  current(): SaveStatus {
    return this.status;
  }

  get dirty(): boolean {
    return this.doc.version !== this.savedVersion;
  }

  private set(s: Partial<SaveStatus>): void {
    this.status = { ...this.status, ...s, revision: this.revision };
    this.onStatus(this.status);
  }

  /** Mark the current document as unsaved (e.g. a restored draft). */
  markDirty(): void {
    this.savedVersion = -1;
    this.changed();
  }

  /** The document now equals revision `n` on the server. */
  markSaved(n: number): void {
    this.revision = n;
    this.savedVersion = this.doc.version;
    this.pending = null;
    this.clearDraft();
    this.set({ state: "saved", message: "", field: null });
  }

  private changed(): void {
    if (!this.dirty) return;
    this.scheduleDraft();
    if (this.status.state === "conflict") return;
    if (this.status.state !== "retrying") this.set({ state: "dirty", message: "", field: null });
    if (!this.enabled) return;
    clearTimeout(this.timer);
    this.timer = window.setTimeout(() => this.saveNow(), DEBOUNCE_MS);
  }

  private scheduleDraft(): void {
    clearTimeout(this.draftTimer);
    this.draftTimer = window.setTimeout(() => this.writeDraft(), 250);
  }

  writeDraft(): void {
    clearTimeout(this.draftTimer);
    if (!this.dirty) return;
    const draft: Draft = { base: this.revision, annotations: this.doc.items.map(toWire), at: new Date().toISOString() };
    try {
      localStorage.setItem(draftKey(this.target.draftId), JSON.stringify(draft));
    } catch (err) {
      console.warn("labelproof: could not write the local draft", err);
    }
  }

  private clearDraft(): void {
    clearTimeout(this.draftTimer);
    localStorage.removeItem(draftKey(this.target.draftId));
  }

  /** Keep a copy of work the person chose not to keep (never silently lost). */
  stashDiscarded(items: Annotation[], note: string): void {
    try {
      localStorage.setItem(discardedKey(this.target.draftId), JSON.stringify({ note, at: new Date().toISOString(), annotations: items }));
    } catch {
      /* storage full: the undo history still has it */
    }
  }

  async saveNow(): Promise<void> {
    clearTimeout(this.timer);
    if (this.status.state === "conflict") return;
    if (this.inFlight) {
      this.again = true;
      return;
    }
    if (!this.dirty) {
      if (this.status.state !== "saved") this.set({ state: "saved", message: "" });
      return;
    }
    const version = this.doc.version;
    if (!this.pending || this.pending.version !== version) this.pending = { key: randomKey(), version };
    const key = this.pending.key;
    const annotations = this.doc.items.map(toWire);
    this.inFlight = true;
    this.set({ state: this.attempts ? "retrying" : "saving", message: this.attempts ? this.status.message : "" });
    try {
      const number = await this.target.save(this.revision, annotations, key);
      this.attempts = 0;
      this.revision = number;
      this.savedVersion = version;
      this.pending = null;
      if (this.dirty) this.writeDraft();
      else this.clearDraft();
      this.set({ state: this.dirty ? "dirty" : "saved", message: "", field: null, savedAt: new Date() });
    } catch (err) {
      this.failed(err);
    } finally {
      this.inFlight = false;
    }
    if (this.again || (this.dirty && this.status.state === "dirty")) {
      this.again = false;
      if (this.status.state === "dirty") this.timer = window.setTimeout(() => this.saveNow(), 200);
    }
  }

  private failed(err: unknown): void {
    const e = err instanceof ApiError ? err : new ApiError(0, "network", String(err));
    this.writeDraft();
    if (e.status === 409) {
      const current = (e.details?.current ?? null) as AnyRevision | null;
      this.attempts = 0;
      this.pending = null;
      this.set({ state: "conflict", message: e.message, field: e.field });
      // Yours is the document now (it may have changed while the request was in flight).
      this.onConflict({ mine: this.doc.items.map(toWire), theirs: current });
      return;
    }
    if (e.retryable || e.status === 401) {
      this.attempts++;
      const delay = Math.min(30_000, 1000 * 2 ** Math.min(5, this.attempts - 1));
      const why = e.status === 401 ? "signed out: sign in again in another tab" : e.message;
      this.set({ state: "retrying", message: `${why}; retrying in ${Math.round(delay / 1000)} s (your work is kept)`, field: null });
      this.timer = window.setTimeout(() => this.saveNow(), delay);
      return;
    }
    this.attempts = 0;
    this.set({ state: "error", message: e.message, field: e.field });
  }

  /**
   * Save now and wait until the document is saved: the revision number. An empty document
   * with nothing saved yet is saved as an empty revision (submitting needs a revision).
   * Throws when the work cannot be saved now (a conflict, an error, or retrying).
   */
  async flush(timeoutMs = 20_000): Promise<number> {
    const end = Date.now() + timeoutMs;
    if (this.revision === 0 && !this.dirty) this.markDirty();
    while (Date.now() < end) {
      const st = this.status.state;
      if (st === "conflict") throw new Error("resolve the conflict first");
      if (st === "error" || (st === "retrying" && !this.inFlight)) throw new Error(`not saved: ${this.status.message}`);
      if (!this.dirty && !this.inFlight) return this.revision;
      if (this.inFlight) await new Promise((r) => setTimeout(r, 50));
      else await this.saveNow();
    }
    throw new Error("saving is taking too long; try again");
  }

  /** After the person resolved a conflict: continue on top of revision `base`. */
  resolved(base: number, needsSave: boolean): void {
    this.revision = base;
    this.pending = null;
    this.set({ state: needsSave ? "dirty" : "saved", message: "", field: null });
    if (needsSave) {
      this.savedVersion = -1;
      void this.saveNow();
    } else {
      this.savedVersion = this.doc.version;
      this.clearDraft();
    }
  }
}
