export async function run(): Promise<boolean> { return true; }
