/**
 * Names for operational states found by clustering a component's metrics: each cluster is named by how
 * its centre stands against the whole (e.g. "high cpu, low throughput"), from the features' own units,
 * so the names mean something to an operator whatever scaling the model used.
 */
export interface NamedState {
  readonly cluster: number;
  readonly name: string;
  readonly size: number;
  /** The mean of each feature over the cluster's rows, in the feature's units. */
  readonly centre: Readonly<Record<string, number>>;
}

/** How many standard deviations from the overall mean a centre must stand to be "high" or "low". */
export const STATE_NAME_THRESHOLD = 0.5;
/** Parts of a name at most (the features standing out most). */
const MAX_PARTS = 3;

/** `name{labels}` → `name` when that keeps every feature's name apart. */
function shortNames(names: readonly string[]): string[] {
  const short = names.map((n) => n.replace(/\{.*\}$/, ''));
  return new Set(short).size === short.length ? short : [...names];
}

export function nameStates(
  featureNames: readonly string[],
  rows: readonly (readonly number[])[],
  assigned: readonly number[],
): NamedState[] {
  const p = featureNames.length;
  const n = rows.length;
  const mean = new Array<number>(p).fill(0);
  const sd = new Array<number>(p).fill(0);
  for (const row of rows) for (let j = 0; j < p; j++) mean[j]! += row[j]! / n;
  for (const row of rows) for (let j = 0; j < p; j++) sd[j]! += (row[j]! - mean[j]!) ** 2 / n;
  for (let j = 0; j < p; j++) sd[j] = Math.sqrt(sd[j]!);
  const clusters = [...new Set(assigned)].sort((a, b) => a - b);
  const labels = shortNames(featureNames);
  const used = new Map<string, number>();
  return clusters.map((cluster) => {
    const members = rows.filter((_, i) => assigned[i] === cluster);
    const centre = new Array<number>(p).fill(0);
    for (const row of members) for (let j = 0; j < p; j++) centre[j]! += row[j]! / members.length;
    const parts = centre
      .map((c, j) => ({ j, z: sd[j]! > 0 ? (c - mean[j]!) / sd[j]! : 0 }))
      .filter((d) => Math.abs(d.z) >= STATE_NAME_THRESHOLD)
      .sort((a, b) => Math.abs(b.z) - Math.abs(a.z))
      .slice(0, MAX_PARTS)
      // In the features' own order, so a state reads the same way whichever feature stands out most.
      .sort((a, b) => a.j - b.j)
      .map((d) => `${d.z > 0 ? 'high' : 'low'} ${labels[d.j]}`);
    let name = parts.length ? parts.join(', ') : 'typical';
    const seen = used.get(name) ?? 0;
    used.set(name, seen + 1);
    if (seen) name = `${name} (${seen + 1})`;
    return {
      cluster,
      name,
      size: members.length,
      centre: Object.fromEntries(featureNames.map((f, j) => [f, centre[j]!])),
    };
  });
}
