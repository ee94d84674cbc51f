import { describe, expect, it } from 'vitest';
import { parsePresenterAccess } from './presenter-link';

describe('parsePresenterAccess', () => {
  it('takes a presenter link with its key, from any server', () => {
    expect(parsePresenterAccess(' https://captions.example/present/Ab12_cd-EF#key=s3cr%2Bt ')).toEqual({ room: 'Ab12_cd-EF', key: 's3cr+t' });
    expect(parsePresenterAccess('/present/room1234#key=k')).toEqual({ room: 'room1234', key: 'k' });
  });

  it('takes a bare room id (its key typed apart) and refuses anything else', () => {
    expect(parsePresenterAccess('room1234')).toEqual({ room: 'room1234', key: null });
    expect(parsePresenterAccess('https://captions.example/r/room1234')).toBeNull();
    expect(parsePresenterAccess('not a room')).toBeNull();
  });
});
