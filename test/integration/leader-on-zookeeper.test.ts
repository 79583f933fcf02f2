/**
 * The leader's package tests (election, fencing, leader term, tracker, replays) run in
 * `npm run test:unit` on the test kit's in-memory ZooKeeper. Here the same test files run
 * again on the local stack's real ZooKeeper (SLUICE_TEST_ZOOKEEPER=stack makes the kit's
 * zkFixture a real chroot), so that what the fake does not model (the client library's
 * version-0 quirk, real watches and session ends) is still covered.
 */
process.env.SLUICE_TEST_ZOOKEEPER = 'stack';

await import('../../packages/master/test/leadership/leader-election.test.ts');
await import('../../packages/master/test/leadership/leader-term.test.ts');
await import('../../packages/master/test/ranges/tracker.test.ts');
await import('../../packages/master/test/replays/replay.test.ts');
