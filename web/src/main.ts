import { createApp, type Component } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import { fetchSession, wantsPhone } from './phone/phone-layout.ts';
import { useSessionStore } from './stores/session.ts';
import { useEditingStore } from './stores/editing.ts';
import { useIncidentsStore } from './stores/incidents.ts';

const pinia = createPinia();

// The grid manager's phone view is its own root (web/src/phone), loaded only when chosen (phone-layout.ts).
async function root(): Promise<Component> {
  // Sign-in first (issue 9): nothing but the sign-in page until GET /api/session names the user, who is then the
  // actor of every store (the server knows it from the cookie; the client only shows what the role may do).
  const user = await useSessionStore(pinia).load();
  if (!user) return (await import('./components/SignIn.vue')).default;
  useEditingStore(pinia).configure({ actor: { role: user.role, id: user.username, name: user.name } });
  // A grid manager's own cases are those of their grid's responder id (gm-{grid code}, the dispatcher's id).
  if (user.role === 'grid_manager' && user.grids?.length) useIncidentsStore(pinia).configure({ me: { role: 'grid_manager', id: `gm-${user.grids[0]}`, name: user.name } });
  if (await wantsPhone(window.location.search, window.innerWidth, fetchSession)) return (await import('./phone/PhoneApp.vue')).default;
  return App;
}

void root().then((c) => createApp(c).use(pinia).mount('#app'));
