/** Where a scientist opens a package, a file or a revision: the Quilt catalog when configured, else the S3 console. */
export interface LinkConfig {
  catalogUrl?: string;
  bucket: string;
}

const S3_CONSOLE = 'https://s3.console.aws.amazon.com/s3';

function catalogBase(c: LinkConfig, packageName: string): string | undefined {
  if (!c.catalogUrl) return undefined;
  return `${c.catalogUrl.replace(/\/$/, '')}/b/${encodeURIComponent(c.bucket)}/packages/${packageName}`;
}

function encodePath(p: string): string {
  return p.split('/').map(encodeURIComponent).join('/');
}

export function packageLink(c: LinkConfig & { packageName: string }): string {
  return (
    catalogBase(c, c.packageName) ??
    `${S3_CONSOLE}/buckets/${encodeURIComponent(c.bucket)}?prefix=${encodeURIComponent(`${c.packageName}/`)}`
  );
}

/** A file of the latest revision: in the catalog by its logical key, else its S3 object. */
export function fileLink(c: LinkConfig, packageName: string, logicalKey: string, physical: { bucket: string; key: string }): string {
  const base = catalogBase(c, packageName);
  if (base) return `${base}/tree/latest/${encodePath(logicalKey)}`;
  return `${S3_CONSOLE}/object/${encodeURIComponent(physical.bucket)}?prefix=${encodeURIComponent(physical.key)}`;
}

/** One revision: its tree in the catalog, else its manifest in S3. */
export function revisionLink(c: LinkConfig, packageName: string, topHash: string): string {
  const base = catalogBase(c, packageName);
  if (base) return `${base}/tree/${topHash}/`;
  return `${S3_CONSOLE}/object/${encodeURIComponent(c.bucket)}?prefix=${encodeURIComponent(`.quilt/packages/${topHash}`)}`;
}

/** What QuiltSync and quilt3 open: `quilt+s3://<bucket>#package=<name>:latest`. */
export function quiltUri(bucket: string, packageName: string): string {
  return `quilt+s3://${bucket}#package=${packageName}:latest`;
}
