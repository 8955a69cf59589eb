// A complete, valid 10DLC registration (brand and campaign) for tests that submit one.
export const REGISTRATION = {
  brand: {
    legal_name: 'Demo Plumbing LLC',
    ein: '12-3456789',
    website: 'https://demo-plumbing.example',
    vertical: 'Home services',
    contact_email: 'owner@demo-plumbing.example',
  },
  campaign: {
    use_case: 'CUSTOMER_CARE',
    description: 'We text callers back when we miss their call, to help them book a plumbing visit.',
    sample_messages: [
      'Sorry we missed your call! How can we help with your plumbing today?',
      'Your drain cleaning is booked for Tuesday at 9:00. Reply STOP to opt out.',
    ],
    opt_in_description: 'Callers phone the business; when the call is missed they receive one text back.',
  },
};
