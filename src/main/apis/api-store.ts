/**
 * The node's API definitions (RIG spec 3.2), owned by the main thread: seeded from
 * PROXY_CONFIG_FILE, changed through the internal API. Definitions are validated before they get
 * here (shared/apis/validate.ts); this class only applies RIG's create/update/delete semantics.
 * Deleted definitions stay as tombstones (`active: false`), so their id answers 404 and a later
 * POST re-creates it with the next `ref_number`.
 *
 * After each change the internal API hands the active set to the shards (main/api/apis-routes.ts).
 */
import { deactivated, replaced, updated, withDefaults, type WriteMeta } from '../../shared/apis/defaults.js';
import type { ApiDefinition, JsonObject } from '../../shared/apis/types.js';

export type CreateResult = 'created' | 'exists';

export class ApiStore {
  /** By id, in creation order (the order routes are matched in). */
  private readonly apis = new Map<string, ApiDefinition>();

  constructor(
    private readonly nodeName: string,
    private readonly clock: () => Date = () => new Date(),
  ) {}

  /** Start-up: the definitions of PROXY_CONFIG_FILE (validated, distinct ids). */
  load(defs: readonly JsonObject[]): void {
    const meta = this.meta();
    for (const def of defs) this.apis.set(def['id'] as string, withDefaults(def, meta));
  }

  /**
   * A definition as another node (or this one) wrote it to the replication topic, tombstones
   * included: it replaces whatever is stored under its id (main/apis/api-replication.ts).
   */
  applyReplicated(def: ApiDefinition): void {
    this.apis.set(def['id'] as string, def);
  }

  /** The stored definition, tombstone or not (what is replicated after a change). */
  stored(id: string): ApiDefinition | undefined {
    return this.apis.get(id);
  }

  /** Active definitions, in creation order. */
  active(): ApiDefinition[] {
    return [...this.apis.values()].filter((a) => a['active'] === true);
  }

  /** The definition if it exists and is active. */
  get(id: string): ApiDefinition | undefined {
    const api = this.apis.get(id);
    return api && api['active'] === true ? api : undefined;
  }

  /** POST: 'exists' when the id is active; a deleted id is re-created in place. */
  create(def: JsonObject): CreateResult {
    const id = def['id'] as string;
    const previous = this.apis.get(id);
    if (previous && previous['active'] === true) return 'exists';
    this.apis.set(id, previous ? replaced(previous, def, this.meta()) : withDefaults(def, this.meta()));
    return 'created';
  }

  /** PUT: false when there is no active definition with that id. */
  update(id: string, params: JsonObject): boolean {
    const current = this.get(id);
    if (!current) return false;
    this.apis.set(id, updated(current, params, this.meta()));
    return true;
  }

  /** DELETE: false when there is no active definition with that id. */
  deactivate(id: string): boolean {
    const current = this.get(id);
    if (!current) return false;
    this.apis.set(id, deactivated(current, this.meta()));
    return true;
  }

  private meta(): WriteMeta {
    return { nodeName: this.nodeName, now: this.clock().toISOString() };
  }
}
