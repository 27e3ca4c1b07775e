/** Round to 6 decimals: the precision of every number a detector puts in a report (evidence, summaries). */
export function round6(x: number): number {
  return Math.round(x * 1e6) / 1e6;
}
