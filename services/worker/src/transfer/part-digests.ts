import type { S3Client } from '@aws-sdk/client-s3';

/**
 * Hands the SHA-256 of each part, already computed for Quilt's `sha2-256-chunked` hash, to the
 * request signer, so the bytes are not hashed a second time.
 *
 * SigV4 signs an S3 upload's body by its SHA-256 (`x-amz-content-sha256`), which the SDK computes
 * for every Buffer body unless the header is already there. When the multipart part size equals
 * the Quilt chunk size (8 MiB for files up to ~78 GiB), each part is exactly one chunk, and a file
 * of one part is one chunk: the digests are the same. Giving them to the signer saves one SHA-256
 * pass over every byte uploaded, and S3 then checks that the bytes it stored are the bytes we
 * hashed for the manifest (it refuses a body that does not match the header).
 *
 * One middleware per client looks the digest up by bucket, key and part number. A key being
 * uploaded twice at once (never, under the entry lease) is simply not helped: the SDK hashes.
 */
const registered = new Map<string, Map<number, string>>();
const installed = new WeakSet<S3Client>();

const HEADER = 'x-amz-content-sha256';

/** Starts collecting digests for `bucket`/`key`; returns the collector and a release, or undefined if the key is taken. */
export function collectPartDigests(s3: S3Client, bucket: string, key: string): { onChunk(index: number, digest: Buffer): void; release(): void } | undefined {
  install(s3);
  const id = `${bucket}\n${key}`;
  if (registered.has(id)) return undefined;
  const parts = new Map<number, string>();
  registered.set(id, parts);
  return {
    onChunk: (index, digest) => parts.set(index + 1, digest.toString('hex')),
    release: () => {
      if (registered.get(id) === parts) registered.delete(id);
    },
  };
}

function install(s3: S3Client): void {
  if (installed.has(s3)) return;
  installed.add(s3);
  s3.middlewareStack.add(
    (next, context) => async (args) => {
      const command = (context as { commandName?: string }).commandName;
      if (command === 'UploadPartCommand' || command === 'PutObjectCommand') {
        const input = args.input as { Bucket?: string; Key?: string; PartNumber?: number };
        const digest = registered.get(`${input.Bucket}\n${input.Key}`)?.get(input.PartNumber ?? 1);
        const request = args.request as { headers?: Record<string, string> };
        if (digest && request.headers && !Object.keys(request.headers).some((h) => h.toLowerCase() === HEADER)) request.headers[HEADER] = digest;
      }
      return next(args);
    },
    { step: 'build', name: 'bpQuiltChunkDigestAsPayloadHash' },
  );
}
