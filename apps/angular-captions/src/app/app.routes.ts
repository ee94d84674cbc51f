import { Routes } from '@angular/router';

export const routes: Routes = [
  { path: '', loadComponent: () => import('./rooms/home-page').then((m) => m.HomePage), title: 'Live captions' },
  {
    path: 'present/:room',
    loadComponent: () => import('./presenter/presenter-page').then((m) => m.PresenterPage),
    title: 'Presenter · Live captions',
  },
  { path: 'r/:room', loadComponent: () => import('./viewer/viewer-page').then((m) => m.ViewerPage), title: 'Live captions' },
  { path: '**', redirectTo: '' },
];
