/**
 * The partner spec's readings of QC and analysis results: QC passed → proceed to variant calling,
 * otherwise review and resequence; an analysis gets a quality class from what the partner says or
 * from its quality score.
 */
export interface QcSummary {
  passed: boolean;
  qualityScore: number | null;
  coverage: number | null;
  recommendation: 'proceed' | 'review_required';
  next_step: 'variant_calling' | 'resequencing_required';
}

export function qcSummary(data: Record<string, unknown>): QcSummary {
  const passed = data.passed === true;
  return {
    passed,
    qualityScore: finite(data.qualityScore),
    coverage: finite(data.coverage),
    recommendation: passed ? 'proceed' : 'review_required',
    next_step: passed ? 'variant_calling' : 'resequencing_required',
  };
}

export interface VariantSummary {
  variants: Record<string, unknown>;
  qualityScore: number | null;
  /** `high` (score ≥ 40), `medium` (≥ 30), `low`, or what the partner stated; `unknown` without either. */
  qualityClass: string;
}

export function variantSummary(data: Record<string, unknown>): VariantSummary {
  const qualityScore = finite(data.qualityScore);
  const stated =
    typeof data.qualityClass === 'string' && data.qualityClass.length > 0 && data.qualityClass.length <= 64 ? data.qualityClass : undefined;
  const derived = qualityScore === null ? 'unknown' : qualityScore >= 40 ? 'high' : qualityScore >= 30 ? 'medium' : 'low';
  const variants =
    typeof data.variants === 'object' && data.variants !== null && !Array.isArray(data.variants)
      ? (data.variants as Record<string, unknown>)
      : {};
  return { variants, qualityScore, qualityClass: stated ?? derived };
}

function finite(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) ? v : null;
}
