import { projectConfig } from '../../vitest.shared';

export default projectConfig({ root: import.meta.dirname });
