export const SDK_NAME = '@otel-audit/sdk';
export const SDK_VERSION = '0.1.0';
