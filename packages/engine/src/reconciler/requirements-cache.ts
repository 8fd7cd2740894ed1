import { parseRequirements } from '@fleet/core/model';
import type { Requirements, UnitName } from '@fleet/core/model';
import type { ClusterViewSource, PlanningInput } from '@fleet/core/registry';

/**
 * Parsed `[X-Fleet]` requirements of the snapshot's units, keyed by name and file hash. Files are
 * immutable per hash, so an entry never goes stale; entries of units that left the snapshot are
 * dropped on the next call.
 */
export class RequirementsCache {
  private entries = new Map<string, Requirements>();

  constructor(private readonly files: Pick<ClusterViewSource, 'unitFiles'>) {}

  /** Requirements per unit; units whose file cannot be read this pass are listed in `unreadable`. */
  async forSnapshot(snapshot: PlanningInput): Promise<{ requirements: Map<UnitName, Requirements>; unreadable: Set<UnitName> }> {
    const out = new Map<UnitName, Requirements>();
    const unreadable = new Set<UnitName>();
    const next = new Map<string, Requirements>();
    const missing = [...snapshot.units.values()].filter((u) => !this.entries.has(cacheKey(u.name, u.hash)));
    const files = missing.length === 0 ? new Map() : await this.files.unitFiles(missing.map((u) => u.hash));
    for (const unit of snapshot.units.values()) {
      const key = cacheKey(unit.name, unit.hash);
      let req = this.entries.get(key);
      if (req === undefined) {
        const file = files.get(unit.hash);
        if (file === undefined) {
          unreadable.add(unit.name); // the unit waits for a pass that can read it
          continue;
        }
        req = parseRequirements(unit.name, file);
      }
      next.set(key, req);
      out.set(unit.name, req);
    }
    this.entries = next;
    return { requirements: out, unreadable };
  }
}

function cacheKey(name: UnitName, hash: string): string {
  return `${name}\u0000${hash}`;
}
