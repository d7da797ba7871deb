import { stopSharedLocalAws } from '@bp/local-stack/testing';

/** Stops the shared emulators once every suite of the run is done. */
export const mochaHooks = {
  async afterAll(this: Mocha.Context) {
    this.timeout(30_000);
    await stopSharedLocalAws();
  },
};
