import { projectConfig } from '../../vitest.shared.ts';

export default projectConfig({ root: import.meta.dirname });
