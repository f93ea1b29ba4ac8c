/**
 * A read whose NotFound means "there is none": the result, or undefined on a 404 NotFound (as
 * client-go callers write `if apierrors.IsNotFound(err) { return nil, nil }`). One helper, so the
 * places that read an optional object from the registry do not each keep their own copy.
 */
import { ApiError } from './index.ts';

/** `read`'s object, or undefined when it failed with NotFound; any other error is thrown on. */
export async function orUndefined<T>(read: Promise<T>): Promise<T | undefined> {
  try {
    return await read;
  } catch (err) {
    if (err instanceof ApiError && err.reason === 'NotFound') return undefined;
    throw err;
  }
}
