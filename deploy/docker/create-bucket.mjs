// One-shot of compose.yaml: creates the stack's bucket on the S3 server, retrying until the
// server answers, so that Sluice never starts against a bucket that is not there.
// Runs inside the sluice-master image (mounted at /app/create-bucket.mjs, next to its
// node_modules) with the same AWS SDK and settings as Sluice itself.
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';

const bucket = process.env.BUCKET || 'sluice';
const endpoint = process.env.SLUICE_S3_ENDPOINT;
const s3 = new S3Client({
  endpoint,
  region: process.env.SLUICE_S3_REGION || 'us-east-1',
  forcePathStyle: true,
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
});

const deadline = Date.now() + 120_000;
for (;;) {
  try {
    await s3.send(new HeadBucketCommand({ Bucket: bucket }));
    console.log(`bucket ${bucket} exists on ${endpoint}`);
    process.exit(0);
  } catch (err) {
    const status = err?.$metadata?.httpStatusCode;
    if (status === 404) {
      try {
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        console.log(`bucket ${bucket} created on ${endpoint}`);
        process.exit(0);
      } catch (createErr) {
        if (createErr?.name === 'BucketAlreadyOwnedByYou') process.exit(0);
        console.error(`create-bucket: ${createErr?.name}: ${createErr?.message}`);
      }
    } else {
      console.error(`create-bucket: waiting for ${endpoint}: ${err?.name ?? err}`);
    }
  }
  if (Date.now() > deadline) {
    console.error(`create-bucket: gave up on ${endpoint} after 120 s`);
    process.exit(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 1000));
}
