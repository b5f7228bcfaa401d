/**
 * What an error page tells a person: what happened, what would be needed, and (in the template)
 * where to go from here. The JSON face of the same error keeps its `detail`; this is the page's.
 */
export interface ErrorPage {
  heading: string;
  explanation: string;
  /** The scopes the refused action needs, when the refusal named them. */
  needs: string[];
}

const BY_STATUS: Record<number, { heading: string; explanation: string }> = {
  400: { heading: 'That request could not be understood', explanation: 'Something in the request was not in the form this page expects.' },
  403: { heading: 'You are not allowed to do this', explanation: 'Your login does not have the permission this needs.' },
  404: { heading: 'Not found', explanation: 'There is nothing at this address.' },
  422: { heading: 'Some of what was sent is not valid', explanation: 'Please check the values below and try again.' },
  429: { heading: 'Too many attempts', explanation: 'Please wait a little and try again.' },
  503: { heading: 'Temporarily unavailable', explanation: 'A service the portal needs is not answering. Please try again in a moment.' },
};

const BY_CODE: Record<string, { heading: string; explanation: string }> = {
  CROSS_SITE_REQUEST: {
    heading: 'This request came from outside the portal',
    explanation: 'For your safety, actions must be sent from the portal’s own pages. Go back, reload the page and try again.',
  },
  NOT_FOUND: { heading: 'Not found', explanation: '' },
};

/** The scopes named by an RFC 6750 `insufficient_scope` challenge (`errors.ts` `forbidden`). */
function neededScopes(headers: Record<string, string>): string[] {
  const scope = /scope="([^"]*)"/.exec(headers['www-authenticate'] ?? '')?.[1];
  return scope ? scope.split(' ').filter(Boolean) : [];
}

export function describeError(status: number, code: string | undefined, detail: string, headers: Record<string, string>): ErrorPage {
  const known = (code && BY_CODE[code]) || BY_STATUS[status];
  const heading = known?.heading ?? (status >= 500 ? 'Something went wrong on our side' : 'That did not work');
  // A 404 from a service names what is missing ("No employee with number 7"): that is the explanation.
  const explanation = known?.explanation || detail || 'Please try again, or go back to the home page.';
  return { heading, explanation: status >= 500 && !known ? 'The problem has been logged. Please try again in a moment.' : explanation, needs: neededScopes(headers) };
}
