// What the report says about the calibration against redis-benchmark: the
// throughput ratio, and whether each generator's latency agrees with its own
// throughput by Little's law (see bench/calibration.ts for why that is the
// test of a load tool's latency).

import type { CalibrationMeasurement, CalibrationResult } from '../calibration.js';
import { num, sentence, times } from './format.js';

/** A generator's mean this far below what Little's law requires is leaving part of each round trip out. */
const SHORT_OF_LITTLE = 0.8;

export function calibrationFacts(calibration: CalibrationResult): string[] {
  if (calibration.skipped) return [`Calibration against redis-benchmark: skipped (${calibration.reason}).`];
  const facts = [
    `Calibration against redis-benchmark: ${calibration.medianRatio !== null ? `our generator reached ${times(calibration.medianRatio)} redis-benchmark's throughput on the same Redis (median)` : 'no ratio'}. ${sentence(calibration.interpretation)}`,
  ];
  const checked = latencyCheck(calibration.measurements);
  if (checked) facts.push(checked);
  return facts;
}

/** The Little's-law check of both generators' mean latency, at the largest connection count where both measured GET. */
export function latencyCheck(measurements: readonly CalibrationMeasurement[]): string | null {
  const both = measurements.filter(
    (m) => m.command === 'GET' && m.redisBenchmark?.meanMs != null && m.redisBenchmark.littlesLawMs !== undefined && m.ours?.meanUs !== undefined,
  );
  if (both.length === 0) return null;
  const m = both.reduce((a, b) => (b.connections > a.connections ? b : a));
  const theirs = m.redisBenchmark!;
  const ours = m.ours!;
  const short = (mean: number, required: number) =>
    mean < SHORT_OF_LITTLE * required ? ', so it leaves part of each round trip out of its latency' : '';
  return (
    `Latency against Little's law (GET, ${m.connections} connections, where the mean must be connections ÷ throughput): ` +
    `redis-benchmark's mean was ${num(theirs.meanMs!)} ms against the ${num(theirs.littlesLawMs!)} ms its throughput requires${short(theirs.meanMs!, theirs.littlesLawMs!)}; ` +
    `ours was ${num(ours.meanUs! / 1000)} ms against ${num(ours.littlesLawUs! / 1000)} ms${short(ours.meanUs!, ours.littlesLawUs!)}.`
  );
}
