import { BillingSection } from './billing-section.tsx';
import { HoursSection } from './hours-section.tsx';
import { MessagingSection } from './messaging-section.tsx';
import { QuickRepliesSection } from './quick-replies-section.tsx';
import { RegistrationSection } from './registration-section.tsx';
import { ServicesSection } from './services-section.tsx';
import { TeamSection } from './team-section.tsx';

// The owner's settings, one section per concern; each section loads and saves on its own, so one
// failing does not hide the others.

export function SettingsPage() {
  return (
    <section className="page" aria-labelledby="settings-title">
      <h1 id="settings-title">Settings</h1>
      <nav aria-label="Settings sections" className="section-links">
        <a href="#hours-title">Opening hours</a> · <a href="#messaging-title">Greetings</a> ·{' '}
        <a href="#services-title">Services</a> · <a href="#quick-title">Quick replies</a> ·{' '}
        <a href="#team-title">Team</a> · <a href="#billing-title">Billing</a> ·{' '}
        <a href="#registration-title">Texting registration</a>
      </nav>
      <HoursSection />
      <MessagingSection />
      <ServicesSection />
      <QuickRepliesSection />
      <TeamSection />
      <BillingSection />
      <RegistrationSection />
    </section>
  );
}
