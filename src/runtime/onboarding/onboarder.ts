// Who is onboarding: the signed-in owner-to-be's subject and the organisation that has no tenant yet.
export type Onboarder = { authOrgId: string; subject: string };
