import { PermanentError } from '@bp/shared';
import type { PartnerFile, PartnerPolicy } from '@bp/shared/partners/event';
import { sanitizeEntryPath } from '../../transfer/index.ts';
import type { PartnerStepContext } from '../context.ts';
import { checkSource, type FileSource } from '../source-policy.ts';

/** A listed file after its checks: where it comes from and its key inside the package. */
export interface CheckedFile {
  file: PartnerFile;
  logicalKey: string;
  source: FileSource;
}

/**
 * Checks every listed file before anything is fetched or written: its path must be a safe logical
 * key (the ZIP entries' rules: no `..`, no absolute path or drive letter, NFC), no two files may
 * share one, and its URL must pass the partner's policy. The first bad file fails the event, named.
 */
export function checkFiles(files: readonly PartnerFile[], dir: string, policy: PartnerPolicy): CheckedFile[] {
  const seen = new Map<string, string>();
  return files.map((file) => {
    let logicalKey: string;
    try {
      const p = sanitizeEntryPath(file.path);
      if (p.kind !== 'file') throw new PermanentError('names a directory', { code: 'PartnerBadPath' });
      logicalKey = `${dir}${p.logicalKey}`;
    } catch (err) {
      const why = (err as Error).message.replace(/^unsafe ZIP: entry "(?:[^"\\]|\\.)*" /, '');
      throw new PermanentError(`file ${JSON.stringify(file.path)} refused: its path ${why}`, {
        code: 'PartnerBadPath',
        details: { file: file.path },
      });
    }
    const other = seen.get(logicalKey);
    if (other !== undefined)
      throw new PermanentError(`file ${JSON.stringify(file.path)} refused: it is the same package file as ${JSON.stringify(other)}`, {
        code: 'PartnerDuplicatePath',
        details: { file: file.path },
      });
    seen.set(logicalKey, file.path);
    return { file, logicalKey, source: checkSource(file.path, file.url, policy) };
  });
}

/** Step `check-sources`: every file's path and URL checked, so a refused one fails the event before a byte is written. */
export async function checkSources(ctx: PartnerStepContext): Promise<{ fileCount: number }> {
  const checked = checkFiles(ctx.job.event.files ?? [], '', ctx.job.policy);
  return { fileCount: checked.length };
}
