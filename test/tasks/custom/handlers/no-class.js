/** A custom handler module that exports no EndpointHandler class (for the tests). */
export const handler = { call: () => 'never' };
