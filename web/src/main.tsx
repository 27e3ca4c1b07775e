import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './App.tsx';
import { takeSignInCode } from './route.ts';
import './styles.css';

// Taken before the first render, once: the code is single-use and must leave the address bar at once.
const signInCode = takeSignInCode();
const root = document.getElementById('root');
if (root === null) throw new Error('index.html has no #root');
createRoot(root).render(
  <StrictMode>
    <App signInCode={signInCode} />
  </StrictMode>,
);
